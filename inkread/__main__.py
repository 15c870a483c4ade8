"""`python -m inkread`, and the `inkread` command's entry point."""

import sys


def run() -> None:
    """The command line, where a Ctrl-C while its libraries load (its first 0.3 s) ends as
    one later does: it had printed Python's traceback."""
    try:
        from inkread.cli import main
    except KeyboardInterrupt:
        print("inkread: interrupted", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
