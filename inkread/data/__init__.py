"""Data formats: reading ground truth and page layouts, cutting line images."""

from inkread.data.lines import Line, Skipped, line_images, redrawn_note, with_text
from inkread.data.sources import line_key, read_data, read_xml

__all__ = [
    "Line",
    "Skipped",
    "line_images",
    "line_key",
    "read_data",
    "read_xml",
    "redrawn_note",
    "with_text",
]
