# The issue-library fixtures (products, leads, a broker that records instead of sending).
from tests.issues.conftest import (  # noqa: F401
    _fast_passwords,
    _quiet_broker,
    logistics_lead,
    sent_tasks,
    shampoo,
    tshirt,
    warehouse_lead,
)
