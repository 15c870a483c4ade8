"""inkread: handwritten text recognition you can train on your own pages."""

__version__ = "0.1.0"
