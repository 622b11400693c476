#!/bin/bash
# Reference solution: load the dump into an in-memory database, convert each order's time to
# UTC before taking its date, count paid orders only, subtract their refunds.
set -euo pipefail
python3 - <<'PYEOF'
import json
import sqlite3
from datetime import date, datetime, timezone

db = sqlite3.connect(":memory:")
db.executescript(open("/app/shop.sql").read())
net = {}
rows = db.execute("""
    SELECT o.id, o.customer_id, o.placed_at,
           (SELECT SUM(quantity * unit_price_cents) FROM order_lines WHERE order_id = o.id),
           (SELECT COALESCE(SUM(amount_cents), 0) FROM refunds WHERE order_id = o.id)
    FROM orders o WHERE o.status = 'paid'""")
for _, customer, placed, amount, refunded in rows:
    day = datetime.fromisoformat(placed).astimezone(timezone.utc).date()
    if date(2024, 1, 1) <= day <= date(2024, 3, 31):
        net[customer] = net.get(customer, 0) + amount - refunded
best = max(net, key=net.get)
name = db.execute("SELECT name FROM customers WHERE id = ?", (best,)).fetchone()[0]
with open("/app/answer.json", "w") as f:
    json.dump({"customer_id": best, "name": name, "net_spend": f"{net[best] / 100:.2f}"}, f)
PYEOF
