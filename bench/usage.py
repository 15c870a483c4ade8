"""For the bench scripts that take their arguments as they come: asked for -h or --help, or
given too few, they print their docstring (which holds their usage) and stop, rather than
end in a traceback."""

import sys


def arguments(doc: str | None, least: int) -> list[str]:
    """The script's arguments, once there are at least `least` of them."""
    args = sys.argv[1:]
    asked = args[:1] in (["-h"], ["--help"])
    if asked or len(args) < least:
        print((doc or "").strip())
        sys.exit(0 if asked else 2)
    return args
