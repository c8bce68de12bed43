"""optim: design a B2B sales organisation for the year ahead."""

__version__ = "0.1.0"
