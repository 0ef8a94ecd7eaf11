from django.conf import settings
from django.db import models


class Ticket(models.Model):
    text = models.TextField()
    channel = models.CharField(max_length=16, default="chat")
    sku = models.CharField(max_length=64, blank=True)
    order_number = models.CharField(max_length=64, blank=True)
    external_source = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    triage_status = models.CharField(max_length=16, default="pending")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
