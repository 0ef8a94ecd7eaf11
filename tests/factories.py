"""factory_boy factories shared by the whole suite."""
import factory
from django.utils import timezone

from accounts.models import Role, User
from feedback.masking import mask_phone_numbers
from feedback.models import Category, Channel, Product, Ticket
from issues.models import Department


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", "pass-1234")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"测试商品 {n}")
    product_category = "洗发水"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    text = factory.Sequence(lambda n: f"洗发水漏液了，瓶子裂开 {n}")
    text_masked = factory.LazyAttribute(lambda ticket: mask_phone_numbers(ticket.text))
    channel = Channel.CHAT
    received_at = factory.LazyFunction(timezone.now)


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def department(code: str) -> Department:
    return Department.objects.get(code=code)
