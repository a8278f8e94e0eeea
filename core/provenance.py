"""The one encoder of generated images: PNG and JPEG that say they are AI-generated.

Every image a model made (either tier, the ZIP's copies, the profile kit cut from one, any
smaller copy a front sends) is written here, so each carries the notice twice: in words a person
reads (PNG `Comment`, EXIF `ImageDescription`) and as IPTC's digital source type
`trainedAlgorithmicMedia` in an XMP packet, the field image platforms read to label AI images
(docs/architecture.md, "Generated images are marked").

The person's own photos and the instant retouch of a selfie are not generated: they are
encoded where they are made, unmarked, so the mark never claims a real photo is synthetic.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

from PIL import Image, PngImagePlugin

AI_NOTICE = "AI-generated image (headshots)"
SOFTWARE = "headshots"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
XMP_KEYWORD = "XML:com.adobe.xmp"  # the iTXt keyword XMP's specification gives PNG
_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_SOURCE_TYPE = f"{{{_IPTC_EXT}}}DigitalSourceType"
_EXIF_DESCRIPTION, _EXIF_SOFTWARE = 0x010E, 0x0131
XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    f'<rdf:RDF xmlns:rdf="{_RDF}">'
    f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{_IPTC_EXT}"'
    f' Iptc4xmpExt:DigitalSourceType="{TRAINED_ALGORITHMIC_MEDIA}"/>'
    "</rdf:RDF></x:xmpmeta>"
    '<?xpacket end="r"?>'
)


def png(image: Image.Image, text: Mapping[str, str] | None = None) -> bytes:
    """Return a lossless PNG marked as AI-generated, with `text` as further tEXt chunks."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    info.add_text("Comment", AI_NOTICE)
    info.add_text("ai_generated", "true")
    for key, value in (text or {}).items():
        info.add_text(key, value)
    info.add_itxt(XMP_KEYWORD, XMP)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 95) -> bytes:
    """Return a JPEG marked as AI-generated (XMP in an APP1 segment, the notice in its EXIF),
    with full colour resolution: the export a person keeps."""
    return _jpeg(image, quality, marked=True, subsampling=0)


def jpeg_like(source: bytes, image: Image.Image, quality: int) -> bytes:
    """Return `image` (a copy of `source`: smaller, cropped) as JPEG, marked when `source` is.

    For the code that shrinks whatever it is handed (a front's size limit, the gallery's
    thumbnails, the profile kit): a generated image keeps its mark, a person's photo stays
    unmarked. Pillow's default chroma subsampling keeps these copies small.
    """
    return _jpeg(image, quality, marked=source_of(source) == TRAINED_ALGORITHMIC_MEDIA)


def _jpeg(image: Image.Image, quality: int, *, marked: bool, **options: Any) -> bytes:
    if marked:
        exif = Image.Exif()
        exif[_EXIF_DESCRIPTION] = AI_NOTICE
        exif[_EXIF_SOFTWARE] = SOFTWARE
        options |= {"exif": exif.tobytes(), "xmp": XMP.encode()}
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality, **options)
    return buffer.getvalue()


def source_of(data: bytes) -> str | None:
    """Return the IPTC digital source type a PNG or JPEG declares in its XMP, or None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            packet = image.info.get("xmp")
    except OSError:
        return None
    if not packet:
        return None
    return _source_type(packet.decode() if isinstance(packet, bytes) else str(packet))


def _source_type(packet: str) -> str | None:
    """Return DigitalSourceType from an XMP packet, as an attribute or as an element."""
    try:
        root = ElementTree.fromstring(packet.strip(" \t\r\n\x00"))
    except ElementTree.ParseError:
        return None
    for node in root.iter(f"{{{_RDF}}}Description"):
        if _SOURCE_TYPE in node.attrib:
            return node.attrib[_SOURCE_TYPE]
        found = node.find(_SOURCE_TYPE)
        if found is not None:
            return found.get(f"{{{_RDF}}}resource") or (found.text or "").strip() or None
    return None
