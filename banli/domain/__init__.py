"""The shared kernel: commands, events, the Proposal aggregate, deadlines and rates. Pure."""
from .timing.deadlines import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from .decide import decide
from .events import Event
from .proposal import Bureau, Context, Directory, MemoryDirectory, Proposal, evolve, fold
from .views.rates import Scope, compute_report
from .registry import COMMAND_TYPES, REGISTRY, AnyCommand, AnyEvent, load_event, parse_command
from .rejections import Rejection

__all__ = [
    "AnyCommand", "AnyEvent", "Bureau", "COMMAND_TYPES", "Context", "DEFAULT_PROFILE",
    "Directory", "Event", "MemoryDirectory", "PROFILES", "Profile", "Proposal", "REGISTRY",
    "Rejection", "Scope", "compute_report", "decide", "evolve", "fold", "get_profile",
    "load_event", "parse_command",
]
