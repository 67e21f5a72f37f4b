"""A published release, read-only: its store and index, entity documents, views, SPARQL and executors.

Nothing here imports `kg.build` (nor rdflib, pyshacl or yaml): the server loads this package and the flat
kernel in `kg/`, never the build chain (tests/test_layout.py).
"""
