from django.urls import path

from apps.registries import views

app_name = "registries"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("<str:registry>/star/", views.registry_star, name="star"),
]
