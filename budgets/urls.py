from django.urls import path

from budgets import views

app_name = "budgets"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("open/", views.budget_open, name="budget-open"),
    path("<int:pk>/", views.budget_detail, name="budget-detail"),
    path("<int:pk>/action/", views.budget_action, name="budget-action"),
    path("<int:pk>/reforecast/", views.budget_reforecast, name="budget-reforecast"),
    path("entries/<int:pk>/reverse/", views.entry_reverse, name="entry-reverse"),
]
