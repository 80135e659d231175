"""A phone's HEIC photo decoded to its brightness alone, straight from libheif (no torch).

Why our own binding, small as it is: pillow-heif (which Pillow reads HEIC through) always asks
libheif for RGB, so a 12 MP photo is decoded, its colour planes upsampled and converted to 36 MB
of RGB, copied twice, and turned back into grey, the one thing the preprocessing reads. HEVC
already stores brightness as its own plane (Y), so asking libheif for the decoder's own planes
and keeping Y skips all of that. Measured on a 4032x3024 iPhone-style HEIC (512x512 tiles, two
cores): 229-266 ms through pillow-heif to an RGB image, 179-189 ms for the Y plane
(BENCHMARKS.md §3c). Y is the picture's luma (BT.601 weights, as Pillow's own conversion to grey
uses, or BT.709 where the file says so); it is stretched to full range where the file is
limited-range, so paper reads as white as through Pillow.

The library is the libheif that pillow-heif ships with (or the system's), called through
ctypes with its stable C API. Anything off the common path (no libheif found, an alpha
channel, more than 8 bits, RGB-coded or unusual colour planes, any decoding error) returns
None, and the caller reads the file through pillow-heif as before, errors and all. libheif
applies the container's rotation and mirroring (HEIF's own orientation, which an iPhone writes)
while decoding, so the picture comes out upright; its EXIF orientation must not be applied again.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from functools import lru_cache

from PIL import Image

# libheif's enums (heif.h / heif_image.h), stable since libheif 1.0.
_YCBCR, _MONOCHROME = 0, 2
_CHROMA_MONO, _CHROMA_420, _CHROMA_422, _CHROMA_444 = 0, 1, 2, 3
_CHANNEL_Y = 0
_MATRIX_IDENTITY = 0  # "Y" would be the green plane: leave such files to pillow-heif
_BT709 = 1
# The decoder's own planes this path reads (colour space, chroma); anything else is pillow-heif's.
_PLANES = {
    (_YCBCR, _CHROMA_420),
    (_YCBCR, _CHROMA_422),
    (_YCBCR, _CHROMA_444),
    (_MONOCHROME, _CHROMA_MONO),
}


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


class _Nclx(ctypes.Structure):
    # struct heif_color_profile_nclx's leading fields (the rest is never read).
    _fields_ = [
        ("version", ctypes.c_uint8),
        ("color_primaries", ctypes.c_int),
        ("transfer_characteristics", ctypes.c_int),
        ("matrix_coefficients", ctypes.c_int),
        ("full_range_flag", ctypes.c_uint8),
    ]


_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "heif_context_alloc": (_P, []),
    "heif_context_free": (None, [_P]),
    "heif_context_set_max_decoding_threads": (None, [_P, ctypes.c_int]),
    "heif_context_read_from_memory_without_copy": (_Error, [_P, _P, ctypes.c_size_t, _P]),
    "heif_context_get_primary_image_handle": (_Error, [_P, ctypes.POINTER(_P)]),
    "heif_image_handle_release": (None, [_P]),
    "heif_image_handle_has_alpha_channel": (ctypes.c_int, [_P]),
    "heif_image_handle_get_luma_bits_per_pixel": (ctypes.c_int, [_P]),
    "heif_image_handle_get_width": (ctypes.c_int, [_P]),
    "heif_image_handle_get_height": (ctypes.c_int, [_P]),
    "heif_image_handle_get_preferred_decoding_colorspace": (
        _Error,
        [_P, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)],
    ),
    "heif_decode_image": (_Error, [_P, ctypes.POINTER(_P), ctypes.c_int, ctypes.c_int, _P]),
    "heif_image_release": (None, [_P]),
    "heif_image_get_width": (ctypes.c_int, [_P, ctypes.c_int]),
    "heif_image_get_height": (ctypes.c_int, [_P, ctypes.c_int]),
    "heif_image_get_bits_per_pixel_range": (ctypes.c_int, [_P, ctypes.c_int]),
    "heif_image_get_plane_readonly": (
        ctypes.POINTER(ctypes.c_uint8),
        [_P, ctypes.c_int, ctypes.POINTER(ctypes.c_int)],
    ),
    "heif_image_get_nclx_color_profile": (_Error, [_P, ctypes.POINTER(ctypes.POINTER(_Nclx))]),
    "heif_nclx_color_profile_free": (None, [ctypes.POINTER(_Nclx)]),
}
_lock = threading.Lock()


def _candidates() -> list[str]:
    """pillow-heif's own libheif first (Linux and Windows wheels keep it in pillow_heif.libs,
    macOS wheels in pillow_heif/.dylibs), then the system's."""
    found: list[str] = []
    try:
        import pillow_heif

        package = os.path.dirname(pillow_heif.__file__)
        for pattern in (
            "../pillow_heif.libs/libheif*",
            ".dylibs/libheif*",
            "../pillow_heif.libs/heif*",
        ):
            found += sorted(glob.glob(os.path.join(package, pattern)))
    except ImportError:
        pass
    import ctypes.util

    system = ctypes.util.find_library("heif")
    return found + ([system] if system else [])


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    """libheif with the signatures above declared, or None when none can be loaded whole."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
        except (OSError, AttributeError):
            continue
        return lib
    return None


def decode_luma(data: bytes, max_pixels: int) -> Image.Image | None:
    """The primary picture of a HEIF file's bytes as a Pillow "L" image of its brightness,
    upright; None where this path does not apply (see the module's docstring) or the picture
    has more than ``max_pixels`` pixels: the caller then reads it through pillow-heif."""
    try:
        import pillow_heif  # noqa: F401 - HEIC is read with pillow-heif; this only speeds it up
    except ImportError:
        return None
    lib = _library()
    if lib is None:
        return None
    buffer = ctypes.create_string_buffer(data, len(data))  # must outlive the context
    context = lib.heif_context_alloc()
    if not context:
        return None
    handle, image = _P(), _P()
    try:
        lib.heif_context_set_max_decoding_threads(context, min(8, os.cpu_count() or 1))
        if lib.heif_context_read_from_memory_without_copy(context, buffer, len(data), None).code:
            return None
        if lib.heif_context_get_primary_image_handle(context, ctypes.byref(handle)).code:
            return None
        width = lib.heif_image_handle_get_width(handle)
        height = lib.heif_image_handle_get_height(handle)
        if (
            width < 1
            or height < 1
            or width * height > max_pixels
            or lib.heif_image_handle_has_alpha_channel(handle)
            or lib.heif_image_handle_get_luma_bits_per_pixel(handle) != 8
        ):
            return None
        space, chroma = ctypes.c_int(), ctypes.c_int()
        if lib.heif_image_handle_get_preferred_decoding_colorspace(
            handle, ctypes.byref(space), ctypes.byref(chroma)
        ).code:
            return None
        if (space.value, chroma.value) not in _PLANES:
            return None
        with _lock:  # one 12 MP decode at a time: each already uses every core
            if lib.heif_decode_image(handle, ctypes.byref(image), space, chroma, None).code:
                return None
        return _luma_plane(lib, image)
    finally:
        if image:
            lib.heif_image_release(image)
        if handle:
            lib.heif_image_handle_release(handle)
        lib.heif_context_free(context)


def _luma_plane(lib: ctypes.CDLL, image: ctypes.c_void_p) -> Image.Image | None:
    """Copy the decoded Y plane out of libheif's image, stretched to full range if need be."""
    if lib.heif_image_get_bits_per_pixel_range(image, _CHANNEL_Y) != 8:
        return None
    full_range, matrix = True, _BT709
    profile = ctypes.POINTER(_Nclx)()
    if not lib.heif_image_get_nclx_color_profile(image, ctypes.byref(profile)).code and profile:
        full_range = bool(profile.contents.full_range_flag)
        matrix = profile.contents.matrix_coefficients
        lib.heif_nclx_color_profile_free(profile)
    if matrix == _MATRIX_IDENTITY:
        return None
    stride = ctypes.c_int()
    plane = lib.heif_image_get_plane_readonly(image, _CHANNEL_Y, ctypes.byref(stride))
    width = lib.heif_image_get_width(image, _CHANNEL_Y)
    height = lib.heif_image_get_height(image, _CHANNEL_Y)
    if not plane or width < 1 or height < 1 or stride.value < width:
        return None
    raw = ctypes.string_at(plane, stride.value * height)
    luma = Image.frombytes("L", (width, height), raw, "raw", "L", stride.value)
    if not full_range:
        # Limited range keeps Y in 16-235: stretch it as an RGB conversion would.
        luma = luma.point([min(255, max(0, round((v - 16) * 255 / 219))) for v in range(256)])
    return luma
