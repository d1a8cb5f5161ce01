"""Where runs live: the SQLite run store with its artifact folders, and exports to files and text."""
