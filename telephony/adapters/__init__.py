"""The PBX port's adapters: Asterisk over AMI (`ami.AmiPbx`) and the simulated PBX in process
(`simulated.SimulatedPbx`), chosen by ``CIVICDESK_PBX_MODE``."""

from __future__ import annotations

from kernel.settings import Settings
from telephony.adapters.ami import AmiPbx
from telephony.adapters.simulated import SimulatedPbx
from telephony.ports import Pbx
from telephony.simulator import PbxModel


def pbx_for(settings: Settings, model: PbxModel | None = None) -> Pbx:
    """The PBX the settings name: Asterisk at CIVICDESK_AMI_HOST, or ``model`` (a new simulated PBX
    when none is given) reached in process."""
    if settings.pbx_mode == "simulator":
        if model is None:
            model = PbxModel(settings.ami_username or "civicdesk", settings.ami_secret)
        return SimulatedPbx(model, settings.ami_username or "civicdesk", settings.ami_secret)
    return AmiPbx(settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret)
