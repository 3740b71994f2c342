"""plugwatch: find drug-sale offers on social media, with evidence a reviewer can check."""

__version__ = "0.1.0"
