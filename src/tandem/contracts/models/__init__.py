"""The contracts app's models: contracts, their documents and their service catalog."""

from tandem.contracts.models.contracts import Contract
from tandem.contracts.models.documents import ContractDocument
from tandem.contracts.models.scope import ScopeItem

__all__ = ["Contract", "ContractDocument", "ScopeItem"]
