"""kg: a linked-data publisher for film knowledge graphs."""

from .config import Config, load_config
from .release import BuildResult, build
from .sources import InputError

__version__ = "0.1.0"
__all__ = ["BuildResult", "Config", "InputError", "build", "load_config", "__version__"]
