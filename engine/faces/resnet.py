"""dlib's face-recognition ResNet run by onnxruntime: the same weights file, the same 128 numbers.

dlib-bin is built without BLAS, so its own forward pass takes ~75 ms per face on one core here.
The network is 29 small convolutions; written as an ONNX graph (`engine.faces.resnet_graph`),
onnxruntime runs it in ~7 ms (numpy's im2col products took ~18), and the descriptors equal dlib's
to about 3e-7 (tests/test_face_resnet.py compares the two on real photos; bench/descriptor.py
times them).

The weights file is dlib's own serialization of `anet_type` (dlib's dnn_face_recognition_ex.cpp):
a 7x7 stem, 14 residual units of two 3x3 convolutions (five of them halve the size and add an
average-pooled shortcut), a global average and a 128-wide fully connected layer. The file names
every layer in forward order; tags and skips are compile-time in dlib and are not stored, which is
why the unit structure below is fixed rather than read. Each batch-norm ("affine") layer is folded
into the convolution before it at load time.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from engine.faces.resnet_graph import ConvWeights, NetWeights, UnitWeights, to_onnx

Floats = NDArray[np.float32]

CHIP_PX = 150  # dlib's input: an aligned 150 x 150 RGB face chip (dlib.get_face_chip)
# Layer names as dlib writes them (a length-prefixed string), and one letter each for the check
# of the whole sequence against the architecture.
_LETTERS = {
    "con_4": "C",
    "affine_": "A",
    "relu_": "R",
    "max_pool_2": "M",
    "avg_pool_2": "P",
    "add_prev_": "D",
    "fc_2": "F",
    "input_rgb_image_sized": "I",
}
_NAME = re.compile(rb"\x01([\x04-\x20])(" + b"|".join(n.encode() for n in _LETTERS) + rb")")
# Input, stem (conv, relu, 3x3 max pool), units (conv, relu, conv, [pool of the shortcut], add,
# relu), global average pool, fully connected.
_ARCHITECTURE = re.compile(r"ICARM(?:CARCAP?DR)+PF")


class FaceResNet:
    """dlib's face descriptor network; load once per process, call on 150 px face chips."""

    def __init__(self, net: NetWeights) -> None:
        options = ort.SessionOptions()
        # One thread, as every image worker is one process on one core; no spinning between calls.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = to_onnx(net, CHIP_PX)
        # The OrtValues share the arrays' memory: both live as long as the session.
        self._weights = [ort.OrtValue.ortvalue_from_numpy(a) for a in graph.weights.values()]
        options.add_external_initializers(list(graph.weights), self._weights)
        self._session = ort.InferenceSession(
            graph.model, options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_file(cls, path: Path) -> FaceResNet:
        """Read dlib_face_recognition_resnet_model_v1.dat; ValueError if it is another network."""
        return cls(_parse(path.read_bytes(), path.name))

    def descriptor(self, chip: NDArray[np.uint8]) -> Floats:
        """Return the 128-d descriptor of an aligned 150 x 150 RGB chip (same person: < ~0.6)."""
        if chip.shape != (CHIP_PX, CHIP_PX, 3):
            raise ValueError(f"a face chip is {CHIP_PX}x{CHIP_PX}x3, not {chip.shape}")
        batch = np.ascontiguousarray(chip, dtype=np.uint8)[None]
        (out,) = self._session.run(None, {"chip": batch})
        return np.asarray(out[0], dtype=np.float32)


class _Reader:
    """dlib's serialization: variable-length integers, portable floats, raw float32 tensors."""

    def __init__(self, data: bytes, at: int) -> None:
        self._data = data
        self.at = at

    def integer(self) -> int:
        # One control byte (low nibble: byte count, high bit: negative), then little-endian bytes.
        control = self._data[self.at]
        size = control & 0x0F
        value = int.from_bytes(self._data[self.at + 1 : self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if control & 0x80 else value

    def text(self) -> str:
        size = self.integer()
        value = self._data[self.at : self.at + size].decode("ascii")
        self.at += size
        return value

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def tensor(self) -> Floats:
        self.integer()  # the tensor format's version
        count = int(np.prod([self.integer() for _ in range(4)]))
        if self.at + 4 * count > len(self._data):
            raise ValueError("the weights file ends inside a tensor")
        values = np.frombuffer(self._data, "<f4", count, self.at)
        self.at += 4 * count
        return values.astype(np.float32)


def _parse(data: bytes, name: str) -> NetWeights:
    """Read the layers in file order, check them against the architecture, build the network."""
    found = [(m.start(), m.group(2).decode()) for m in _NAME.finditer(data)]
    found = [(at, layer) for at, layer in found if len(layer) == data[at + 1]]
    letters = "".join(_LETTERS[layer] for _, layer in found)
    if not _ARCHITECTURE.fullmatch(letters):
        raise ValueError(f"{name} is not dlib's face recognition ResNet (layers {letters[:40]}…)")
    readers = [(layer, _Reader(data, at)) for at, layer in found]
    for _, reader in readers:
        reader.text()  # the layer's name
    mean = np.array([readers[0][1].real() for _ in range(3)], np.float32)
    pairs = itertools.pairwise(readers)
    convs = [_conv_layer(conv, affine) for (kind, conv), (_, affine) in pairs if kind == "con_4"]
    fc_reader = readers[-1][1]
    outputs, inputs = fc_reader.integer(), fc_reader.integer()
    fc = fc_reader.tensor().reshape(inputs, outputs)
    # Per unit: a shortcut pool right before its add; the file's last pool is the global one.
    shortcuts = re.findall(r"P?D", letters)
    firsts, seconds = convs[1::2], convs[2::2]
    units = [
        UnitWeights(first, second, kind == "PD")
        for first, second, kind in zip(firsts, seconds, shortcuts, strict=True)
    ]
    return NetWeights(mean, convs[0], units, fc)


def _conv_layer(conv: _Reader, affine: _Reader) -> ConvWeights:
    """Return a convolution with the batch-norm scale and shift that follows it folded in."""
    params = conv.tensor()
    filters, rows, cols, stride, _, padding, _ = (conv.integer() for _ in range(7))
    channels = (params.size - filters) // (filters * rows * cols)
    weights = params[: filters * channels * rows * cols].reshape(filters, channels, rows, cols)
    gamma, beta = np.split(affine.tensor(), 2)
    folded = (weights * gamma[:, None, None, None]).astype(np.float32)
    bias = params[filters * channels * rows * cols :] * gamma + beta
    return ConvWeights(folded, bias.astype(np.float32), stride, padding)
