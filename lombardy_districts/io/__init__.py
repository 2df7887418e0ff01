"""Files in and out: reading data, plans and the contiguity graph; writing atomically.

Reads the embedded data, your own polygons and tables, CSV plans, and the contiguity graph with its
cache; writes every file atomically (``files.write_atomic``) and output folders as one locked unit
(``output_folder``).
"""
