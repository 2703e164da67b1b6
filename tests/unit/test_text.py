from segstudio.core.text import counted


def test_counted_agrees_with_the_number():
    assert counted(1, "file") == "1 file"
    assert counted(0, "file") == "0 files"
    assert counted(2, "file") == "2 files"
    assert counted(1, "class", "classes") == "1 class"
    assert counted(3, "class", "classes") == "3 classes"
    assert counted(12345, "pixel") == "12,345 pixels"

