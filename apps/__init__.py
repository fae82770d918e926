"""The composition roots: the embedded system, the three services' processes, the `banli`
command. The only code that imports every service; `banli/` and `services/` import nothing
from here."""
