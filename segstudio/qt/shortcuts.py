"""The one list of keyboard shortcuts the help dialog shows (the actions that define them
live in main_window, the tool bar and edit_wiring; a test checks the two agree). Its own
module so the help dialog does not import the main window."""

#: typed digits select a class by id (1 then 7 quickly: class 17); see core.class_keys
CLASS_DIGIT_KEYS = tuple("0123456789")
NEXT_CLASS_KEY = "."
PREVIOUS_CLASS_KEY = ","

SHORTCUTS = [
    ("B / E / F / P / W / I", "Brush, eraser, flood fill, polygon/lasso, magic wand, class picker"),
    ("A / L", "Accept the prediction under a brush stroke / inside a lasso or polygon"),
    ("[  /  ]", "Smaller / larger brush"),
    ("0 … 9", "Select the class with the id you type: 1 then 7 quickly is class 17; 0 = background"),
    ("Period / Comma", "Next / previous class ( . and , )"),
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
