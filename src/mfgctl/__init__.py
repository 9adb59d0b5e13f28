"""mfgctl: inventory and production control for small manufacturing shops."""

__version__ = "0.1.0"
