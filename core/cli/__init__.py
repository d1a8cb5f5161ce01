"""The command line: ``python -m core run|list|show|export|presets|sweep``."""
