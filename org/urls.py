from django.urls import path

from org import views

app_name = "org"
urlpatterns = [
    path("departments/", views.department_list, name="department-list"),
    path("departments/<int:pk>/", views.department_detail, name="department-detail"),
    path("people/", views.person_list, name="person-list"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
]
