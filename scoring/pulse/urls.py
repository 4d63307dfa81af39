from django.urls import path

from . import views

urlpatterns = [
    path("", views.pulse_home, name="pulse"),
    path("regions/<slug:code>/", views.region_pulse, name="pulse-region"),
    path("stores/<path:code>/poster/", views.poster, name="pulse-poster"),
    path("stores/<path:code>/poster/<str:audience>/", views.poster, name="pulse-poster-audience"),
    path("stores/<path:code>/rotate/<str:audience>/", views.rotate, name="pulse-rotate"),
    path("stores/<path:code>/kiosks/", views.device_add, name="pulse-device-add"),
    path(
        "stores/<path:code>/kiosks/<int:pk>/off/", views.device_retire, name="pulse-device-retire"
    ),
    path("stores/<path:code>/", views.store_pulse, name="pulse-store"),
]
