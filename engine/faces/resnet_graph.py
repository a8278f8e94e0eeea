"""dlib's face ResNet written as an ONNX graph, so onnxruntime runs it.

The graph is built in memory from the weights `engine.faces.resnet` reads from dlib's file
(nothing is stored or downloaded). Its input is a batch of 150 x 150 RGB chips as uint8 (NHWC,
as dlib.get_face_chip returns them); its output the batch's 128-d descriptors. Shapes are fixed
by the chip size, so dlib's one quirk, adding maps of different sizes, becomes an explicit pad.

The graph names its weights as external data and the arrays are handed to onnxruntime beside it:
copied into the protobuf, serialized and parsed again they left ~100 MB of freed heap in every
image-pool process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

Floats = NDArray[np.float32]
Shape = tuple[int, int, int]  # channels, height, width of one map (the batch is dynamic)
Map = tuple[str, Shape]  # a node's output name and its shape

OPSET = 17
IR_VERSION = 8  # what every onnxruntime since 1.13 reads; onnx 1.22 writes a newer one
INLINE_MAX = 8  # values up to this many are stored in the graph itself (pads, the mean, a scale)


@dataclass(frozen=True)
class ConvWeights:
    """A convolution with the batch norm that follows it folded in."""

    weights: Floats  # (filters, channels, kernel, kernel)
    bias: Floats
    stride: int
    padding: int


@dataclass(frozen=True)
class UnitWeights:
    """A residual unit: two 3x3 convolutions and a shortcut."""

    first: ConvWeights
    second: ConvWeights
    downsample: bool  # the shortcut is average-pooled 2x2 (the first conv has stride 2)


@dataclass(frozen=True)
class NetWeights:
    """Everything dlib's file holds about the network."""

    mean_rgb: Floats  # subtracted from the pixels, which are then divided by 256
    stem: ConvWeights  # 7x7, then a ReLU and a 3x3 max pool
    units: list[UnitWeights]
    fc: Floats  # (inputs, 128), applied to the global average


@dataclass(frozen=True)
class OnnxNet:
    """A serialized graph and the weights it names as external data."""

    model: bytes
    weights: dict[str, NDArray[np.generic]]


def to_onnx(net: NetWeights, chip_px: int) -> OnnxNet:
    """Return the ONNX model of `net` for chip_px x chip_px chips."""
    g = _Graph()
    pixels = g.node("Cast", ["chip"], to=TensorProto.FLOAT)
    shifted = g.node("Sub", [pixels, g.constant("mean", net.mean_rgb)])
    scaled = g.node("Mul", [shifted, g.constant("scale", np.array(1 / 256, np.float32))])
    x: Map = (g.node("Transpose", [scaled], perm=[0, 3, 1, 2]), (3, chip_px, chip_px))
    x = g.relu(g.conv(x, net.stem))
    x = (g.node("MaxPool", [x[0]], kernel_shape=[3, 3], strides=[2, 2]), _pooled(x[1], 3))
    for unit in net.units:
        body = g.conv(g.relu(g.conv(x, unit.first)), unit.second)
        shortcut = (g.node("AveragePool", [x[0]], kernel_shape=[2, 2], strides=[2, 2]),
                    _pooled(x[1], 2)) if unit.downsample else x  # fmt: skip
        x = g.relu(g.add(shortcut, body))
    pooled = g.node("Flatten", [g.node("GlobalAveragePool", [x[0]])])
    out = g.node("MatMul", [pooled, g.constant("fc", net.fc)])
    chips = helper.make_tensor_value_info("chip", TensorProto.UINT8, ["batch", chip_px, chip_px, 3])
    return g.model(chips, out, net.fc.shape[1])


@dataclass
class _Graph:
    """Collects nodes and weights; each layer method returns its output with its shape."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    placeholders: list[onnx.TensorProto] = field(default_factory=list)
    weights: dict[str, NDArray[np.generic]] = field(default_factory=dict)
    ids: count[int] = field(default_factory=count)

    def constant(self, stem: str, value: NDArray[np.generic]) -> str:
        """Add `value`: a weight as external data (see the module's note), a small one inline."""
        name = f"{stem}_{next(self.ids)}"
        if value.size <= INLINE_MAX:  # shape inference must read the pads themselves
            self.placeholders.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
            return name
        dtype = helper.np_dtype_to_tensor_dtype(value.dtype)
        tensor = TensorProto(name=name, data_type=dtype, dims=value.shape)
        tensor.data_location = TensorProto.EXTERNAL
        tensor.external_data.add(key="location", value="in-memory")
        self.placeholders.append(tensor)
        self.weights[name] = np.ascontiguousarray(value)
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        out = f"{op.lower()}_{next(self.ids)}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x: Map, conv: ConvWeights) -> Map:
        filters, _, kernel, _ = conv.weights.shape
        s, p = conv.stride, conv.padding
        inputs = [x[0], self.constant("w", conv.weights), self.constant("b", conv.bias)]
        out = self.node("Conv", inputs, kernel_shape=[kernel] * 2, strides=[s] * 2, pads=[p] * 4)
        _, height, width = x[1]
        return out, (filters, (height + 2 * p - kernel) // s + 1, (width + 2 * p - kernel) // s + 1)

    def relu(self, x: Map) -> Map:
        return self.node("Relu", [x[0]]), x[1]

    def add(self, a: Map, b: Map) -> Map:
        """Add two maps the way dlib's add_prev does: the larger shape, the smaller zero-padded.

        The stride-2 convolutions have no padding, so at 8 px the body is 3 px and the pooled
        shortcut 4 px; dlib adds them aligned at the top-left corner (pad at the bottom-right).
        """
        c, h, w = (max(m, n) for m, n in zip(a[1], b[1], strict=True))
        return self.node("Add", [self._pad(a, (c, h, w)), self._pad(b, (c, h, w))]), (c, h, w)

    def _pad(self, x: Map, target: Shape) -> str:
        if x[1] == target:
            return x[0]
        ends = [t - s for s, t in zip(x[1], target, strict=True)]
        return self.node("Pad", [x[0], self.constant("pads", np.array([0] * 5 + ends, np.int64))])

    def model(self, chips: onnx.ValueInfoProto, output: str, width: int) -> OnnxNet:
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", width])
        graph = helper.make_graph(self.nodes, "dlib_face_resnet", [chips], [out], self.placeholders)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        return OnnxNet(bytes(model.SerializeToString()), self.weights)


def _pooled(shape: Shape, size: int) -> Shape:
    """Return the shape after an unpadded pooling of stride 2 (dlib's: floor)."""
    channels, height, width = shape
    return (channels, (height - size) // 2 + 1, (width - size) // 2 + 1)
