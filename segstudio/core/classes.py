"""The class table: ids, names, colours and the ignore flag, plus the file formats it comes in."""

from __future__ import annotations

import colorsys
import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segstudio.core.errors import BadFileError

RGB = tuple[int, int, int]

#: Value Pascal VOC tools write for "void" pixels in palette masks.
VOC_VOID = 255


@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    color: RGB
    ignore: bool = False

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.color)


def parse_color(text: str) -> RGB:
    """'#rrggbb', 'r,g,b' or 'r g b' -> (r, g, b)."""
    t = text.strip()
    if t.startswith("#") and len(t) == 7:
        return (int(t[1:3], 16), int(t[3:5], 16), int(t[5:7], 16))
    parts = [p for p in t.replace(",", " ").split() if p]
    if len(parts) != 3:
        raise ValueError(f"not a colour: {text!r}")
    rgb = tuple(int(p) for p in parts)
    if not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"colour component out of 0..255: {text!r}")
    return rgb  # type: ignore[return-value]


def default_color(class_id: int) -> RGB:
    """A stable, distinct colour per class id: black for 0, then golden-ratio hues."""
    if class_id == 0:
        return (0, 0, 0)
    hue = (class_id * 0.618033988749895) % 1.0
    sat = 0.65 + 0.35 * ((class_id * 7) % 3) / 2
    val = 0.95 - 0.25 * ((class_id * 5) % 2)
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return (round(r * 255), round(g * 255), round(b * 255))


@dataclass
class ClassTable:
    """Ordered classes. Ids need not be contiguous, but are < 65536."""

    classes: list[ClassInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        ids = [c.id for c in self.classes]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate class ids in class table")
        self.classes.sort(key=lambda c: c.id)

    # -- look-ups -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self):
        return iter(self.classes)

    def __contains__(self, class_id: int) -> bool:
        return any(c.id == class_id for c in self.classes)

    def get(self, class_id: int) -> ClassInfo | None:
        for c in self.classes:
            if c.id == class_id:
                return c
        return None

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.classes]

    @property
    def num_classes(self) -> int:
        """Length of per-class vectors and model outputs: max non-ignore id + 1.

        An ignore class above that (VOC's void 255) gets no output channel; one inside the
        range keeps its slot, with weight 0.
        """
        ids = self.trainable_ids
        return (max(ids) + 1) if ids else 0

    @property
    def ignore_ids(self) -> list[int]:
        return [c.id for c in self.classes if c.ignore]

    @property
    def trainable_ids(self) -> list[int]:
        return [c.id for c in self.classes if not c.ignore]

    def color_to_id(self) -> dict[RGB, int]:
        return {c.color: c.id for c in self.classes}

    def lut_rgba(self, size: int = 256, alpha: int = 255) -> np.ndarray:
        """(size, 4) uint8 lookup table; class 0, ignore classes and unknown ids transparent."""
        lut = np.zeros((size, 4), dtype=np.uint8)
        for c in self.classes:
            if c.id < size and c.id != 0 and not c.ignore:
                lut[c.id, :3] = c.color
                lut[c.id, 3] = alpha
        return lut

    # -- building -------------------------------------------------------
    @classmethod
    def from_ids(cls, ids: Iterable[int], ignore_ids: Iterable[int] = ()) -> ClassTable:
        ignore = set(ignore_ids)
        out = []
        for i in sorted(set(int(x) for x in ids)):
            if i in ignore:
                out.append(ClassInfo(i, "ignore", (255, 255, 255), True))
            else:
                out.append(ClassInfo(i, "background" if i == 0 else f"class {i}", default_color(i)))
        return cls(out)

    def with_class(self, info: ClassInfo) -> ClassTable:
        rest = [c for c in self.classes if c.id != info.id]
        return ClassTable(rest + [info])

    def to_json(self) -> list[dict]:
        return [
            {"id": c.id, "name": c.name, "color": c.hex, "ignore": c.ignore} for c in self.classes
        ]


def load_class_table(path: str | Path) -> ClassTable:
    """Read CVAT labelmap.txt, JSON or CSV. Raises BadFileError naming the file and the problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise BadFileError(p, f"cannot read class table ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise BadFileError(p, "class table is not UTF-8 text") from None
    try:
        parse = {".json": _from_json, ".csv": _from_csv}.get(p.suffix.lower(), _from_labelmap)
        return _check_sparse_ids(_check_distinct_colors(parse(text)))
    except BadFileError:
        raise
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise BadFileError(p, f"invalid class table: {e}") from None


def _from_labelmap(text: str) -> ClassTable:
    """CVAT 'Segmentation mask 1.1': '# label:color_rgb:parts:actions', then 'name:r,g,b::'.

    The line order gives the index (as CVAT writes index masks); 'background' comes first.
    """
    out: list[ClassInfo] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(":")
        if len(parts) < 2:
            raise ValueError(f"line {lineno}: expected 'name:r,g,b::', got {s!r}")
        name, color = parts[0].strip(), parts[1].strip()
        idx = len(out)
        ignore = name.lower() in {"ignore", "void", "unlabeled", "unlabelled"} and idx != 0
        out.append(ClassInfo(idx, name, parse_color(color), ignore))
    if not out:
        raise ValueError("no classes")
    return ClassTable(out)


def _from_records(records: Sequence[dict]) -> ClassTable:
    out = []
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise ValueError(f"entry {i + 1}: expected an object with id, name, color, got {r!r}")
        cid = int(r.get("id", i))
        if not 0 <= cid < 65536:
            raise ValueError(f"class id {cid} outside 0..65535")
        name = str(r.get("name", f"class {cid}"))
        color = r.get("color", r.get("colour"))
        if color in (None, ""):
            rgb = default_color(cid)
        elif isinstance(color, list | tuple):
            rgb = parse_color(",".join(str(int(c)) for c in color))  # same checks as text
        else:
            rgb = parse_color(str(color))
        ignore = str(r.get("ignore", "false")).strip().lower() in {"1", "true", "yes"}
        out.append(ClassInfo(cid, name, rgb, ignore))  # type: ignore[arg-type]
    if not out:
        raise ValueError("no classes")
    return ClassTable(out)


def _from_json(text: str) -> ClassTable:
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("classes", data)
    if not isinstance(data, list):
        raise ValueError("expected a list of classes or {'classes': [...]}")
    return _from_records(data)


def _from_csv(text: str) -> ClassTable:
    reader = csv.DictReader(text.splitlines())
    rows = []
    for row in reader:
        if None in row or None in row.values():  # a ragged row: DictReader fills in None
            n = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
            raise ValueError(f"line {reader.line_num}: {n} field(s), but the header "
                             f"({','.join(reader.fieldnames or [])}) has {len(reader.fieldnames or [])}")
        rows.append(row)
    if rows and "id" not in rows[0]:
        raise ValueError("CSV needs a header with at least 'id' and 'name' columns")
    return _from_records(rows)


#: Per-class vectors and model outputs have a slot for every id up to the largest, so a
#: table {0, 1, 40000} costs 40001 of them (a 12 GiB confusion matrix). Ids above this must
#: not be sparse.
MAX_SPARSE_ID = 1023


def sparse_ids_problem(table: ClassTable) -> str | None:
    """Why the table's ids cost far more memory than its classes, or None."""
    n, present = table.num_classes, len(table.trainable_ids)
    if n > MAX_SPARSE_ID + 1 and n > 4 * present:
        return (f"class ids go up to {n - 1} for {present} classes, and every id up to the largest "
                f"becomes a model output; number the classes 0 to {present - 1}")
    return None


def _check_sparse_ids(table: ClassTable) -> ClassTable:
    problem = sparse_ids_problem(table)
    if problem:
        raise ValueError(problem)
    return table


def _check_distinct_colors(table: ClassTable) -> ClassTable:
    """Two classes with one colour: a colour mask gives all its pixels to one of them."""
    seen: dict[tuple[int, int, int], ClassInfo] = {}
    for c in table:
        if c.color in seen:
            first = seen[c.color]
            raise ValueError(f"classes {first.id} ({first.name}) and {c.id} ({c.name}) have the same "
                             f"colour {c.hex}; give each class its own colour")
        seen[c.color] = c
    return table
