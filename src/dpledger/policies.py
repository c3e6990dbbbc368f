"""Council policies: ``from dpledger.policies import PRESETS``.

:data:`PRESETS` maps a name (``"st_helens"``, ``"gloucestershire"`` ...) to a
:class:`CouncilPreset`: a council's published Direct Payment rules as an
:class:`~dpledger.AccountPolicy`, with the pages they come from. ``AccountPolicy.preset(name)``
gives the policy alone, and ``open_account(policy="st_helens")`` opens an account with it; an
unknown name is a ``ValidationError`` listing the known ones. A policy changes from a date with
``Ledger.change_policy`` (:class:`PolicyChange` is how the account keeps each change); see
docs/model.md, "Policies over time".
"""

from dpledger.domain.policy import (
    POLICY_FIELDS,
    PRESETS,
    AccountPolicy,
    CouncilPreset,
    PaymentBasis,
    PaymentFrequency,
    PolicyChange,
    preset,
)

__all__ = [
    "POLICY_FIELDS",
    "PRESETS",
    "AccountPolicy",
    "CouncilPreset",
    "PaymentBasis",
    "PaymentFrequency",
    "PolicyChange",
    "preset",
]
