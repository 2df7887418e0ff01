"""Reading files: the embedded data, your own polygons and tables, CSV plans, atomic writes, the contiguity graph."""
