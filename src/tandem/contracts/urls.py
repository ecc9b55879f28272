"""UI routes of the contracts app (written by hand: grep finds every route)."""

from django.urls import path

from tandem.contracts import views

app_name = "contracts"

urlpatterns = [
    # Contracts
    path(
        "engagements/<int:engagement_pk>/contracts/",
        views.ContractListView.as_view(),
        name="contract_list",
    ),
    path(
        "engagements/<int:engagement_pk>/contracts/add/",
        views.ContractEditView.as_view(),
        name="contract_add",
    ),
    path("contracts/<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.ContractEditView.as_view(), name="contract_edit"),
    path("contracts/<int:pk>/delete/", views.ContractDeleteView.as_view(), name="contract_delete"),
    path(
        "contracts/<int:pk>/history/",
        views.ContractDetailView.as_view(tab="history"),
        name="contract_history",
    ),
    # Scope items: the service catalog
    path(
        "engagements/<int:engagement_pk>/scope-items/",
        views.ScopeItemListView.as_view(),
        name="scopeitem_list",
    ),
    path(
        "engagements/<int:engagement_pk>/scope-items/add/",
        views.ScopeItemEditView.as_view(),
        name="scopeitem_add",
    ),
    path("scope-items/<int:pk>/", views.ScopeItemDetailView.as_view(), name="scopeitem_detail"),
    path("scope-items/<int:pk>/edit/", views.ScopeItemEditView.as_view(), name="scopeitem_edit"),
    path(
        "scope-items/<int:pk>/delete/",
        views.ScopeItemDeleteView.as_view(),
        name="scopeitem_delete",
    ),
    path(
        "scope-items/<int:pk>/history/",
        views.ScopeItemDetailView.as_view(tab="history"),
        name="scopeitem_history",
    ),
    # Documents
    path(
        "engagements/<int:engagement_pk>/contract-documents/",
        views.ContractDocumentListView.as_view(),
        name="contractdocument_list",
    ),
    path(
        "engagements/<int:engagement_pk>/contract-documents/add/",
        views.ContractDocumentEditView.as_view(),
        name="contractdocument_add",
    ),
    path(
        "contract-documents/<int:pk>/",
        views.ContractDocumentDetailView.as_view(),
        name="contractdocument_detail",
    ),
    path(
        "contract-documents/<int:pk>/edit/",
        views.ContractDocumentEditView.as_view(),
        name="contractdocument_edit",
    ),
    path(
        "contract-documents/<int:pk>/delete/",
        views.ContractDocumentDeleteView.as_view(),
        name="contractdocument_delete",
    ),
    path(
        "contract-documents/<int:pk>/history/",
        views.ContractDocumentDetailView.as_view(tab="history"),
        name="contractdocument_history",
    ),
    path(
        "contract-documents/<int:pk>/download/",
        views.contractdocument_download,
        name="contractdocument_download",
    ),
]
