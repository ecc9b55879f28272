"""UI routes of what SLA runs found: dashboard, parity, breaches, at risk, credits,
measurements, aggregates, exports (included by ``tandem.service.urls``).

Exports are the lists themselves with ``?export=csv`` or ``?export=xlsx`` (same filters).
"""

from django.urls import path

from tandem.service import views_dashboard, views_results

urlpatterns = [
    # The pages an executive reads: the engagement's latest finished run.
    path(
        "engagements/<int:engagement_pk>/service-levels/",
        views_dashboard.SlaDashboardView.as_view(),
        name="sla_dashboard",
    ),
    path(
        "engagements/<int:engagement_pk>/service-levels/parity/",
        views_dashboard.SlaParityView.as_view(),
        name="sla_parity",
    ),
    path(
        "engagements/<int:engagement_pk>/service-levels/credits/",
        views_dashboard.SlaCreditsView.as_view(),
        name="sla_credits",
    ),
    path(
        "engagements/<int:engagement_pk>/service-levels/breaches/",
        views_results.SlaBreachListView.as_view(),
        name="sla_breaches",
    ),
    path(
        "engagements/<int:engagement_pk>/service-levels/at-risk/",
        views_results.SlaAtRiskListView.as_view(),
        name="sla_at_risk",
    ),
    # The rows behind them: measurements (the drill-down), aggregates, credit lines.
    path(
        "engagements/<int:engagement_pk>/sla-measurements/",
        views_results.SlaMeasurementListView.as_view(),
        name="slameasurement_list",
    ),
    path(
        "sla-measurements/<int:pk>/",
        views_results.SlaMeasurementDetailView.as_view(),
        name="slameasurement_detail",
    ),
    path(
        "engagements/<int:engagement_pk>/sla-aggregates/",
        views_results.SlaAggregateListView.as_view(),
        name="slaaggregate_list",
    ),
    path(
        "sla-aggregates/<int:pk>/",
        views_results.SlaAggregateDetailView.as_view(),
        name="slaaggregate_detail",
    ),
    path(
        "engagements/<int:engagement_pk>/service-credits/",
        views_results.ServiceCreditListView.as_view(),
        name="servicecredit_list",
    ),
    path(
        "service-credits/<int:pk>/",
        views_results.ServiceCreditDetailView.as_view(),
        name="servicecredit_detail",
    ),
    # plotly.js from the installed ``plotly`` package (pages never load a CDN).
    path("assets/plotly.min.js", views_dashboard.plotly_js, name="plotly_js"),
]
