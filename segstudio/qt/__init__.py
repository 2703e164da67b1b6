"""The desktop app: the only package that imports PySide6 or pyqtgraph."""

from segstudio.qt.pyside_fixes import pin_singletons as _pin_singletons

_pin_singletons()  # PySide6 emit() reference leak on True: see pyside_fixes
