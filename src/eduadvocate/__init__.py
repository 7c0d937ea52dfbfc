"""eduadvocate: run education-advocacy social media campaigns from a folder of YAML files.

Each folder is one part; its ``__init__`` says what it does and what it may import, and
docs/ARCHITECTURE.md draws them together (the layers are enforced by import-linter: see
``[tool.importlinter]`` in pyproject.toml).
"""

__version__ = "0.1.0"
