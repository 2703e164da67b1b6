"""``segstudio ...`` headless commands, built on services. Errors print one line, no traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from segstudio import __version__
from segstudio.core.errors import SegstudioError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segstudio",
        description="Semantic segmentation under heavy class imbalance: import, index, weight, "
        "train, predict, evaluate, export. Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from segstudio.cli import ml_commands, project_commands

    project_commands.register(sub)
    ml_commands.register(sub)
    gui = sub.add_parser("gui", help="open the desktop app (optionally on a project)")
    gui.add_argument("project", nargs="?", help="project folder")
    gui.add_argument("--screenshot", metavar="FILE", help="write a PNG of the window and exit")
    gui.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1400x900")
    gui.add_argument("--workspace", metavar="NAME", default=None,
                     help="open in this workspace: annotate, train or review (default: the last one used)")
    parser.set_defaults(command_names=frozenset(sub.choices))
    return parser


def command_names() -> frozenset[str]:
    return build_parser().get_default("command_names")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from segstudio.core.versions import version_lines

        print("\n".join(version_lines()))
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except SegstudioError as e:
        print(f"segstudio {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `segstudio stats P | head`: the reader left, that's fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # a full disk, a folder that cannot be written: the file and why
        where = f"{e.filename}: " if e.filename else ""
        print(f"segstudio {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"segstudio {args.command}: interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "build_parser", "__version__"]
