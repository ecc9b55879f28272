from django.apps import AppConfig


class ContractsConfig(AppConfig):
    """Contracts that protect the hospital: contracts and their documents, and the service
    catalog from which a contract's monthly charge is derived."""

    name = "tandem.contracts"
    label = "contracts"
    verbose_name = "Contracts"

    def ready(self) -> None:
        from tandem.contracts.models import documents  # noqa: F401  (the file-deletion signal)
        from tandem.core.choices import Phase
        from tandem.core.registry import add_phase_link, register_menu_entry

        # The engagement navigation: the contracts (with their documents), then the catalog.
        register_menu_entry(
            "Contracts",
            "contracts:contract_list",
            area="terms",
            order=60,
            current=("contracts:contract",),  # contracts and contract documents
        )
        register_menu_entry(
            "Service catalog",
            "contracts:scopeitem_list",
            area="terms",
            order=65,
            current=("contracts:scopeitem",),
        )
        # The life cycle: the Contract phase's pages (its other capabilities are not yet built).
        add_phase_link(
            Phase.CONTRACT, "Contracts", "contracts:contract_list", capability="contracts"
        )
        add_phase_link(
            Phase.CONTRACT,
            "Service catalog",
            "contracts:scopeitem_list",
            capability="service_catalog",
        )
