"""dlib's face-recognition ResNet run in numpy: the same weights file, the same 128 numbers.

dlib-bin is built without BLAS, so its own forward pass took ~95 ms per face on one core here,
two thirds of the selfie gate's time. The network is 29 small convolutions; as im2col matrix
products through numpy's OpenBLAS the same pass takes ~20 ms, and the descriptors equal dlib's to
about 1e-6 (tests/test_face_resnet.py compares the two on real photos).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

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


@dataclass(frozen=True)
class _Conv:
    weights: Floats  # (kernel * kernel * in channels, out channels), batch norm folded in
    bias: Floats
    kernel: int
    stride: int
    padding: int


@dataclass(frozen=True)
class _Unit:
    first: _Conv
    second: _Conv
    downsample: bool  # the shortcut is average-pooled 2x2 (the first conv has stride 2)


class FaceResNet:
    """dlib's face descriptor network; load once per process, call on 150 px face chips."""

    def __init__(self, mean_rgb: Floats, stem: _Conv, units: list[_Unit], fc: Floats) -> None:
        self._mean = mean_rgb
        self._stem = stem
        self._units = units
        self._fc = fc

    @classmethod
    def from_file(cls, path: Path) -> FaceResNet:
        """Read dlib_face_recognition_resnet_model_v1.dat; ValueError if it is another network."""
        return _parse(path.read_bytes(), path.name)

    def descriptor(self, chip: NDArray[np.uint8]) -> Floats:
        """Return the 128-d descriptor of an aligned 150 x 150 RGB chip (same person: < ~0.6)."""
        if chip.shape != (CHIP_PX, CHIP_PX, 3):
            raise ValueError(f"a face chip is {CHIP_PX}x{CHIP_PX}x3, not {chip.shape}")
        x = (chip.astype(np.float32) - self._mean) / 256.0  # dlib's input_rgb_image scaling
        x = _max_pool(np.maximum(_conv(x, self._stem), 0.0), 3, 2)
        for unit in self._units:
            body = _conv(np.maximum(_conv(x, unit.first), 0.0), unit.second)
            shortcut = _avg_pool(x, 2, 2) if unit.downsample else x
            x = np.maximum(_add_padded(shortcut, body), 0.0)
        pooled = x.reshape(-1, x.shape[2]).mean(axis=0)
        return np.asarray(pooled @ self._fc, dtype=np.float32)


def _conv(x: Floats, conv: _Conv) -> Floats:
    """Return the convolution of an (H, W, C) map: one matrix product over im2col columns."""
    k, s, p = conv.kernel, conv.stride, conv.padding
    if p:
        padded = np.zeros((x.shape[0] + 2 * p, x.shape[1] + 2 * p, x.shape[2]), np.float32)
        padded[p:-p, p:-p] = x
        x = padded
    height, width, channels = x.shape
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    columns = np.empty((out_h, out_w, k * k, channels), np.float32)
    for i in range(k):
        for j in range(k):
            columns[:, :, i * k + j] = x[
                i : i + s * (out_h - 1) + 1 : s, j : j + s * (out_w - 1) + 1 : s
            ]
    flat = columns.reshape(out_h * out_w, k * k * channels)
    return (flat @ conv.weights + conv.bias).reshape(out_h, out_w, -1)


def _windows(x: Floats, size: int, stride: int) -> list[Floats]:
    """Return the size x size strided views of `x` a pooling combines (dlib: no padding)."""
    out_h, out_w = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    last_h, last_w = stride * (out_h - 1) + 1, stride * (out_w - 1) + 1
    return [
        x[i : i + last_h : stride, j : j + last_w : stride]
        for i in range(size)
        for j in range(size)
    ]


def _max_pool(x: Floats, size: int, stride: int) -> Floats:
    return np.asarray(np.maximum.reduce(_windows(x, size, stride)), dtype=np.float32)


def _avg_pool(x: Floats, size: int, stride: int) -> Floats:
    return np.asarray(sum(_windows(x, size, stride)) / (size * size), dtype=np.float32)


def _add_padded(a: Floats, b: Floats) -> Floats:
    """Return a + b the way dlib's add_prev does: the larger shape, the smaller zero-padded.

    The stride-2 convolutions have no padding, so at 8 px the body is 3 px and the pooled
    shortcut 4 px; dlib adds them aligned at the top-left corner.
    """
    shape = tuple(max(m, n) for m, n in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


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


def _parse(data: bytes, name: str) -> FaceResNet:
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
        _Unit(first, second, kind == "PD")
        for first, second, kind in zip(firsts, seconds, shortcuts, strict=True)
    ]
    return FaceResNet(mean, convs[0], units, fc)


def _conv_layer(conv: _Reader, affine: _Reader) -> _Conv:
    """Return a convolution with the batch-norm scale and shift that follows it folded in."""
    params = conv.tensor()
    filters, rows, cols, stride, _, padding, _ = (conv.integer() for _ in range(7))
    channels = (params.size - filters) // (filters * rows * cols)
    weights = params[: filters * channels * rows * cols].reshape(filters, channels, rows, cols)
    gamma, beta = np.split(affine.tensor(), 2)
    folded = weights * gamma[:, None, None, None]
    matrix = folded.transpose(2, 3, 1, 0).reshape(rows * cols * channels, filters)
    bias = params[filters * channels * rows * cols :] * gamma + beta
    return _Conv(np.ascontiguousarray(matrix), bias.astype(np.float32), rows, stride, padding)
