"""The image view: pyqtgraph canvas with the mask overlay and the painting tools."""
