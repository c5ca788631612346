"""What a long step says as it goes, one line at a time: the CLI prints it to stderr, a
caller that does not listen passes nothing. Every function that reports progress takes a
Say."""

from typing import Callable

Say = Callable[[str], None]
