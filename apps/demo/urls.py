from django.urls import path

from apps.demo import views

app_name = "demo"

urlpatterns = [
    path("webhooks/", views.deliveries, name="webhooks"),
    path("webhooks/<slug:endpoint>/", views.receive, name="receive"),
]
