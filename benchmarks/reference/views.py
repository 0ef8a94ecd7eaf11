from django.db import transaction
from rest_framework import generics, serializers

from .celery import triage
from .models import Ticket


class TicketListSerializer(serializers.ListSerializer):
    def create(self, validated_data):
        return Ticket.objects.bulk_create([Ticket(**item) for item in validated_data])


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "text", "channel", "sku", "order_number", "external_source", "external_id",
                  "received_at", "created_at", "triage_status", "filed_by"]
        read_only_fields = ["id", "created_at", "triage_status", "filed_by"]
        list_serializer_class = TicketListSerializer


class TicketCreate(generics.CreateAPIView):
    serializer_class = TicketSerializer

    def perform_create(self, serializer):
        ticket = serializer.save(filed_by=self.request.user)
        transaction.on_commit(lambda: triage.delay([ticket.pk]))


class TicketBatchCreate(generics.CreateAPIView):
    def get_serializer(self, *args, **kwargs):
        return TicketSerializer(*args, data=self.request.data["tickets"], many=True)

    def perform_create(self, serializer):
        tickets = serializer.save(filed_by=self.request.user)
        ids = [ticket.pk for ticket in tickets]
        transaction.on_commit(lambda: triage.delay(ids))
