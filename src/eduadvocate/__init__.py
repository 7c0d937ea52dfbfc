"""eduadvocate: run education-advocacy social media campaigns from a folder of YAML files."""

__version__ = "0.1.0"
