"""The one list of keyboard shortcuts the help dialog shows (the actions that define them
live in main_window and the tool bar; a test checks the two agree). Its own module so
the help dialog does not import the main window."""

SHORTCUTS = [
    ("B / E / F / P / I", "Brush, eraser, flood fill, polygon/lasso, class picker"),
    ("[  /  ]", "Smaller / larger brush"),
    ("1 … 9, 0", "Paint class 1 … 9; 0 = background"),
    ("Right-drag (brush)", "Erase"),
    ("Enter / Esc", "Close / cancel the polygon"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo the last stroke"),
    ("Ctrl+S", "Save the mask (also automatic when leaving an image)"),
    ("Page Down / Page Up", "Next / previous image in the list"),
    ("O", "Show or hide the mask overlay"),
    ("Wheel, middle-drag, Ctrl+0", "Zoom about the cursor, pan, fit the image"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3", "Annotate / Train / Review workspace"),
    ("Ctrl+N / Ctrl+O / Ctrl+Q", "New project from folders, open a project, quit"),
]
