"""Delivery: agents, companies, assignment, proof of delivery, cash on delivery"""

from __future__ import annotations

from app.api import Blueprint
from app.auth.access import auth_required, current_user, customer_required, requires
from app.auth.models import UserRole
from app.dispatch import agents, assignment, cod, proof, reports
from app.dispatch import payouts as agent_pay
from app.dispatch.models import Confirmation
from app.dispatch.schemas import (
    AdminDashboardSchema,
    AgentDashboardSchema,
    AgentOrderQuerySchema,
    AgentOrderSchema,
    AgentPayNowSchema,
    AgentProfileSchema,
    AgentProfileUpdateSchema,
    AgentRowSchema,
    AgentStatsSchema,
    AgentStatusSchema,
    AgentZonesResultSchema,
    AgentZonesSchema,
    AssignCompanySchema,
    AssignmentSchema,
    AssignSchema,
    AutoAssignAllSchema,
    AvailableRequestSchema,
    CodCollectionSchema,
    CodQuerySchema,
    CollectCodSchema,
    CompanySchema,
    CompanyUpdateSchema,
    ConfirmationQuerySchema,
    ConfirmDeliverySchema,
    DeliverySchema,
    DisputeSchema,
    ForceAssignSchema,
    JobResultSchema,
    OfferQuerySchema,
    OfferSchema,
    PayoutQuerySchema,
    PayoutRunSchema,
    PendingPaymentSchema,
    ResolveDisputeSchema,
    ServingZoneSchema,
    UnassignedQuerySchema,
    VerifyCodSchema,
    ZoneOverviewSchema,
    ZoneRequestDecisionSchema,
    ZoneRequestQuerySchema,
    ZoneRequestSchema,
)
from app.extensions import db
from app.orders.schemas import OrderSummarySchema
from app.orders.visibility import find_order, list_orders, present
from app.pagination import PaginationSchema
from app.payouts import operations as payout_ops
from app.payouts.models import PayoutMethod
from app.payouts.schemas import ManualPayoutSchema, PayoutSchema

blp = Blueprint(
    "delivery",
    __name__,
    url_prefix="/api/delivery",
    description="Delivery: agents, companies, assignment, proof of delivery, cash on delivery",
)
cash_blp = Blueprint(
    "cash_on_delivery",
    __name__,
    url_prefix="/api/admin/orders",
    description="Cash on delivery: what agents and staff collected, and its hand-in",
)

R = UserRole
agent_required = auth_required([R.DELIVERY_AGENT])
dispatcher_required = requires("delivery.manage")
cash_admin_required = requires("delivery.cash")
paymaster_required = requires("finance.payments")


def _errors(*codes):
    """The error answers a view documents (the envelope's ``error.code`` tells which)."""
    return blp.errors(*((code, "Error envelope") for code in codes))


# The agent ------------------------------------------------------------------------------
@blp.route("/dashboard", methods=["GET"])
@agent_required
@blp.response(200, AgentDashboardSchema)
def agent_dashboard():
    """Your live deliveries, deliveries made, open requests and the cash you hold."""
    return reports.agent_dashboard(current_user())


@blp.route("/orders", methods=["GET"])
@agent_required
@blp.arguments(AgentOrderQuerySchema, location="query")
@blp.response(200, OrderSummarySchema, paginated=True)
def agent_orders(params):
    """Orders assigned to you (or to your delivery company), newest first."""
    return list_orders(current_user(), params)


def _agent_view(order, user):
    view = present(order, user)
    view.delivery = proof.find_delivery(order.id)
    return view


@blp.route("/orders/<int:order_id>", methods=["GET"])
@agent_required
@blp.response(200, AgentOrderSchema)
@_errors(404)
def agent_order(order_id):
    """One of your orders, with the recipient's name, phone, address and landmark (the
    phone is no longer shown 24 h after delivery). Anyone else's order is 404."""
    user = current_user()
    return _agent_view(find_order(user, order_id), user)


@blp.route("/orders/<int:order_id>/status", methods=["PUT"])
@agent_required
@blp.arguments(AgentStatusSchema)
@blp.response(200, AgentOrderSchema, message="Delivery status updated")
@_errors(400, 404, 409)
def agent_order_status(data, order_id):
    """``OUT_FOR_DELIVERY`` (the customer gets their delivery code), ``ARRIVED``, or
    ``FAILED_ATTEMPT`` with a ``note`` (back to SHIPPED, still yours). DELIVERED only
    through confirm-delivery; moves off the table are 409 ``INVALID_TRANSITION``."""
    user = current_user()
    proof.agent_move(user, order_id, data["status"], data.get("note"))
    db.session.commit()
    return _agent_view(find_order(user, order_id), user)


@blp.route("/orders/<int:order_id>/confirm-delivery", methods=["POST"])
@auth_required([R.DELIVERY_AGENT, R.ADMIN, R.SUPPORT_ADMIN])
@blp.arguments(ConfirmDeliverySchema)
@blp.response(200, DeliverySchema, message="Delivery confirmed")
@_errors(400, 403, 404, 409, 422)
def confirm_delivery(data, order_id):
    """Deliver an order OUT_FOR_DELIVERY or ARRIVED with the customer's six-digit
    ``code`` and the ``recipient_name`` (optional ``photo_url``, ``notes``).

    A wrong code is 422 ``WRONG_DELIVERY_CODE`` (``attempts_left``); after five the code is
    locked (409 ``CODE_LOCKED``) and an admin confirms instead, with ``notes`` and no code.
    """
    delivery = proof.confirm_delivery(current_user(), order_id, data)
    db.session.commit()
    return delivery


@blp.route("/orders/<int:order_id>/collect-cod", methods=["POST"])
@agent_required
@blp.arguments(CollectCodSchema)
@blp.response(200, CodCollectionSchema, message="Cash collected")
@_errors(400, 404, 409, 422)
def collect_cod(data, order_id):
    """Collect the cash of a cash-on-delivery order: exactly its total (422
    ``COD_AMOUNT_MISMATCH``, nothing recorded). Once: a repeat answers the first
    collection. The payment completes; you hold the cash until it is verified."""
    collection = cod.collect(current_user(), order_id, data["amount"])
    db.session.commit()
    return collection


@blp.route("/cod-collections", methods=["GET"])
@agent_required
@blp.arguments(CodQuerySchema, location="query")
@blp.response(200, CodCollectionSchema, paginated=True)
def agent_cod_collections(params):
    """Cash you collected (``status`` COLLECTED: you still hold it; VERIFIED: handed in)."""
    return cod.collections(params, agent=current_user())


@blp.route("/profile", methods=["GET"])
@agent_required
@blp.response(200, AgentProfileSchema)
def get_profile():
    return agents.profile_of(current_user())


@blp.route("/profile", methods=["PUT"])
@agent_required
@blp.arguments(AgentProfileUpdateSchema)
@blp.response(200, AgentProfileSchema, message="Profile updated")
def update_profile(data):
    """Your vehicle and availability (only available agents get orders)."""
    profile = agents.update_profile(current_user(), data)
    db.session.commit()
    return profile


@blp.route("/zones", methods=["GET"])
@agent_required
@blp.response(200, ServingZoneSchema(many=True))
def agent_zones():
    """Every active zone; ``serving`` is true for yours."""
    return agents.zones_for(current_user())


@blp.route("/zone-requests", methods=["GET"])
@agent_required
@blp.arguments(ZoneRequestQuerySchema, location="query")
@blp.response(200, ZoneRequestSchema, paginated=True)
def my_zone_requests(params):
    return agents.list_zone_requests(params, agent=current_user())


@blp.route("/zone-requests", methods=["POST"])
@agent_required
@blp.arguments(ZoneRequestSchema)
@blp.response(201, ZoneRequestSchema, message="Zone requested")
@_errors(400, 404, 409)
def request_zone(data):
    """Ask to serve a zone (404 ``UNKNOWN_ZONE``; 409 ``ALREADY_SERVING`` or
    ``REQUEST_PENDING``)."""
    request = agents.request_zone(current_user(), data["zone_id"], data.get("note"))
    db.session.commit()
    return request


@blp.route("/zone-requests/<int:request_id>/cancel", methods=["POST"])
@agent_required
@blp.response(200, ZoneRequestSchema, message="Zone request cancelled")
@_errors(404, 409)
def cancel_zone_request(request_id):
    request = agents.cancel_zone_request(current_user(), request_id)
    db.session.commit()
    return request


@blp.route("/available-requests", methods=["GET"])
@agent_required
@blp.response(200, AvailableRequestSchema(many=True))
def available_requests():
    """Orders on offer to you, soonest to expire first."""
    return assignment.available_offers(current_user())


@blp.route("/requests/<int:offer_id>/accept", methods=["POST"])
@agent_required
@blp.response(200, AssignmentSchema, message="The order is yours")
@_errors(404, 409, 422)
def accept_request(offer_id):
    """Take an offered order: the first to accept gets it; the others 409 ``REQUEST_GONE``."""
    accepted = assignment.accept_offer(current_user(), offer_id)
    db.session.commit()
    return accepted


@blp.route("/requests/<int:offer_id>/reject", methods=["POST"])
@agent_required
@blp.response(200, OfferSchema, message="Request turned down")
@_errors(404, 409)
def reject_request(offer_id):
    offer = assignment.reject_offer(current_user(), offer_id)
    db.session.commit()
    return offer


# The customer ---------------------------------------------------------------------------
@blp.route("/customer/orders/<int:order_id>/confirm-receipt", methods=["POST"])
@customer_required
@blp.response(200, DeliverySchema, message="Thank you for confirming")
@_errors(404, 409)
def confirm_receipt(order_id):
    """Confirm a delivered order reached you (409 ``NOT_AWAITING_CONFIRMATION`` if it is
    not delivered, or already confirmed or disputed)."""
    delivery = proof.confirm_receipt(current_user(), order_id)
    db.session.commit()
    return delivery


@blp.route("/customer/orders/<int:order_id>/dispute", methods=["POST"])
@customer_required
@blp.arguments(DisputeSchema)
@blp.response(200, DeliverySchema, message="Dispute opened")
@_errors(400, 404, 409, 422)
def dispute_delivery(data, order_id):
    """Say a delivered order did not reach you, within DELIVERY_CONFIRM_HOURS of
    delivery (422 ``DISPUTE_WINDOW_CLOSED`` after): its earnings stay on hold until an
    admin resolves it."""
    delivery = proof.dispute(current_user(), order_id, data["reason"])
    db.session.commit()
    return delivery


# Admins: agents, zones, companies --------------------------------------------------------
@blp.route("/admin/dashboard", methods=["GET"])
@dispatcher_required
@blp.response(200, AdminDashboardSchema)
def admin_dashboard():
    """Orders waiting, on the road, awaiting confirmation or disputed; cash held by
    agents; late deliveries (past ``estimated_delivery_days`` from payment)."""
    return reports.admin_dashboard()


@blp.route("/admin/agents", methods=["GET"])
@dispatcher_required
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, AgentRowSchema, paginated=True)
def list_agents(params):
    return reports.agent_rows(params)


@blp.route("/admin/agents/<int:agent_id>/stats", methods=["GET"])
@dispatcher_required
@blp.response(200, AgentStatsSchema)
@_errors(404)
def agent_stats(agent_id):
    return reports.agent_stats(agents.find_agent(agent_id))


@blp.route("/admin/agents/<int:agent_id>/zones", methods=["PUT"])
@dispatcher_required
@blp.arguments(AgentZonesSchema)
@blp.response(200, AgentZonesResultSchema, message="Zones updated")
@_errors(400, 404)
def set_agent_zones(data, agent_id):
    """The zones the agent serves from now on (404 ``UNKNOWN_ZONE`` / ``UNKNOWN_AGENT``)."""
    agent = agents.find_agent(agent_id)
    zone_ids = agents.set_zones(agent, data["zone_ids"])
    db.session.commit()
    return {"agent_id": agent.id, "zone_ids": zone_ids}


@blp.route("/admin/zone-requests", methods=["GET"])
@dispatcher_required
@blp.arguments(ZoneRequestQuerySchema, location="query")
@blp.response(200, ZoneRequestSchema, paginated=True)
def zone_requests(params):
    return agents.list_zone_requests(params)


@blp.route("/admin/zone-requests/<int:request_id>/approve", methods=["POST"])
@dispatcher_required
@blp.arguments(ZoneRequestDecisionSchema)
@blp.response(200, ZoneRequestSchema, message="Zone request approved")
@_errors(404, 409)
def approve_zone_request(data, request_id):
    request = agents.decide_zone_request(
        request_id, approve=True, actor=current_user(), note=data.get("note")
    )
    db.session.commit()
    return request


@blp.route("/admin/zone-requests/<int:request_id>/reject", methods=["POST"])
@dispatcher_required
@blp.arguments(ZoneRequestDecisionSchema)
@blp.response(200, ZoneRequestSchema, message="Zone request rejected")
@_errors(404, 409)
def reject_zone_request(data, request_id):
    request = agents.decide_zone_request(
        request_id, approve=False, actor=current_user(), note=data.get("note")
    )
    db.session.commit()
    return request


@blp.route("/admin/delivery-zones", methods=["GET"])
@dispatcher_required
@blp.response(200, ZoneOverviewSchema(many=True))
def zones_overview():
    """Every zone with its agents, its open orders and those waiting for an agent."""
    return reports.zones_overview()


@blp.route("/admin/companies", methods=["GET"])
@dispatcher_required
@blp.response(200, CompanySchema(many=True))
def list_companies():
    return agents.list_companies()


@blp.route("/admin/companies", methods=["POST"])
@dispatcher_required
@blp.arguments(CompanySchema)
@blp.response(201, CompanySchema, message="Delivery company added")
@_errors(400, 409)
def create_company(data):
    company = agents.save_company(None, data)
    db.session.commit()
    return company


@blp.route("/admin/companies/<int:company_id>", methods=["PUT"])
@dispatcher_required
@blp.arguments(CompanyUpdateSchema)
@blp.response(200, CompanySchema, message="Delivery company updated")
@_errors(400, 404, 409)
def update_company(data, company_id):
    company = agents.save_company(agents.find_company(company_id), data)
    db.session.commit()
    return company


# Admins: assignment -------------------------------------------------------------------------
@blp.route("/admin/orders/unassigned", methods=["GET"])
@dispatcher_required
@blp.arguments(UnassignedQuerySchema, location="query")
@blp.response(200, OrderSummarySchema, paginated=True)
def unassigned_orders(params):
    """Orders ready to go (QUALITY_APPROVED or SHIPPED; cash orders from PROCESSING)
    without a live assignment, oldest payment first (``zone_id`` to filter)."""
    return assignment.unassigned_orders(params)


@blp.route("/admin/orders/<int:order_id>/assign", methods=["POST"])
@dispatcher_required
@blp.arguments(AssignSchema)
@blp.response(200, AssignmentSchema, message="Order assigned")
@_errors(400, 404, 409, 422)
def assign_order(data, order_id):
    """Give a ready order to an active, available agent serving its zone. One live
    assignment per order: 409 ``ALREADY_ASSIGNED`` (two admins at once: one wins), 409
    ``ORDER_NOT_READY``, 404 ``UNKNOWN_AGENT``, 422 ``AGENT_NOT_ELIGIBLE``."""
    result = assignment.assign(order_id, data["agent_id"], actor=current_user())
    db.session.commit()
    return result


@blp.route("/admin/orders/<int:order_id>/assign-company", methods=["POST"])
@dispatcher_required
@blp.arguments(AssignCompanySchema)
@blp.response(200, AssignmentSchema, message="Order handed to the company")
@_errors(400, 404, 409)
def assign_company(data, order_id):
    """Hand a ready order to a delivery company with its tracking reference; the
    company's agents see it; its share of the delivery fee is recorded."""
    result = assignment.assign_company(
        order_id, data["company_id"], data["tracking_reference"], actor=current_user()
    )
    db.session.commit()
    return result


@blp.route("/admin/orders/<int:order_id>/auto-assign", methods=["POST"])
@dispatcher_required
@blp.response(200, AssignmentSchema, message="Order assigned")
@_errors(404, 409, 422)
def auto_assign(order_id):
    """The eligible agent with the fewest live deliveries (ties: the longest idle);
    422 ``NO_AGENT_AVAILABLE``."""
    result = assignment.auto_assign(order_id, actor=current_user())
    db.session.commit()
    return result


@blp.route("/admin/orders/auto-assign-all", methods=["POST"])
@dispatcher_required
@blp.response(200, AutoAssignAllSchema, message="Orders assigned")
def auto_assign_all():
    """Auto-assign every waiting order, oldest first (a few statements per 2,000 orders,
    whatever the number of agents)."""
    result = assignment.auto_assign_all(actor=current_user())
    db.session.commit()
    return result


@blp.route("/admin/orders/<int:order_id>/notify-agents", methods=["POST"])
@dispatcher_required
@blp.response(201, OfferSchema, message="Order offered to agents")
@_errors(404, 409, 422)
def offer_order(order_id):
    """Offer a ready order to every eligible agent of its zone; it expires after
    DELIVERY_OFFER_MINUTES; the first to accept gets it."""
    offer = assignment.offer_to_agents(order_id, actor=current_user())
    db.session.commit()
    return offer


@blp.route("/admin/orders/<int:order_id>/force-assign", methods=["POST"])
@dispatcher_required
@blp.arguments(ForceAssignSchema)
@blp.response(200, AssignmentSchema, message="Order reassigned")
@_errors(400, 404, 409, 422)
def force_assign(data, order_id):
    """Reassign an order, also one out for delivery, with a ``note`` (the previous
    assignment ends)."""
    result = assignment.force_assign(
        order_id, data["agent_id"], actor=current_user(), note=data["note"]
    )
    db.session.commit()
    return result


@blp.route("/admin/delivery-requests", methods=["GET"])
@dispatcher_required
@blp.arguments(OfferQuerySchema, location="query")
@blp.response(200, OfferSchema, paginated=True)
def delivery_requests(params):
    return assignment.list_offers(params)


@blp.route("/admin/expire-requests", methods=["POST"])
@dispatcher_required
@blp.response(200, JobResultSchema, message="Expired requests closed")
def expire_requests():
    """Run ``expire_delivery_offers`` now."""
    count = assignment.expire_offers()
    db.session.commit()
    return {"count": count}


# Admins: confirmations and disputes -------------------------------------------------------
@blp.route("/admin/pending-confirmations", methods=["GET"])
@dispatcher_required
@blp.arguments(ConfirmationQuerySchema, location="query")
@blp.response(200, DeliverySchema, paginated=True)
def pending_confirmations(params):
    return proof.deliveries_by_confirmation(Confirmation.PENDING, params)


@blp.route("/admin/disputed-orders", methods=["GET"])
@dispatcher_required
@blp.arguments(ConfirmationQuerySchema, location="query")
@blp.response(200, DeliverySchema, paginated=True)
def disputed_orders(params):
    return proof.deliveries_by_confirmation(Confirmation.DISPUTED, params)


@blp.route("/admin/orders/<int:order_id>/resolve-dispute", methods=["POST"])
@dispatcher_required
@blp.arguments(ResolveDisputeSchema)
@blp.response(200, DeliverySchema, message="Dispute resolved")
@_errors(400, 404, 409)
def resolve_dispute(data, order_id):
    """``DELIVERED`` stands (earnings released); ``NOT_DELIVERED``: back to SHIPPED and
    to assignment, the delivery's postings reversed; ``RETURN``: a return/refund is to
    be opened. 409 ``NOT_DISPUTED``."""
    delivery = proof.resolve_dispute(
        order_id, data["resolution"], data["note"], actor=current_user()
    )
    db.session.commit()
    return delivery


@blp.route("/admin/process-auto-confirmations", methods=["POST"])
@dispatcher_required
@blp.response(200, JobResultSchema, message="Deliveries confirmed")
def process_auto_confirmations():
    """Run ``auto_confirm_deliveries`` now."""
    count = proof.auto_confirm()
    db.session.commit()
    return {"count": count}


# Agent pay ---------------------------------------------------------------------------------
@blp.route("/payouts", methods=["GET"])
@agent_required
@blp.arguments(PayoutQuerySchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def my_payouts(params):
    """Your payouts, newest first."""
    return agent_pay.list_payouts(params, agent=current_user())


@blp.route("/agent/payouts", methods=["GET"])
@agent_required
@blp.arguments(PayoutQuerySchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def my_payouts_again(params):
    """Your payouts (the path the web app uses; the same as ``GET /delivery/payouts``)."""
    return agent_pay.list_payouts(params, agent=current_user())


@blp.route("/admin/delivery-payouts", methods=["GET"])
@paymaster_required
@blp.arguments(PayoutQuerySchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def agent_payouts(params):
    return agent_pay.list_payouts(params)


@blp.route("/admin/generate-delivery-payouts", methods=["POST"])
@paymaster_required
@blp.response(200, PayoutRunSchema, message="Agent payouts run")
def generate_agent_payouts():
    """Run ``run_agent_payouts`` for the current AGENT_PAYOUT_SCHEDULE period now: one
    payout per agent and period (of available earnings less cash held), sent by B2C."""
    return agent_pay.run_agent_payouts()


@blp.route("/admin/delivery-payouts/<int:payout_id>/mpesa", methods=["POST"])
@paymaster_required
@blp.response(200, PayoutSchema, message="Payout sent")
@_errors(404, 409, 502)
def send_agent_payout(payout_id):
    """Send a PENDING payout again, or retry a FAILED one (a new B2C attempt)."""
    agent_pay.find_agent_payout(payout_id)
    payout = payout_ops.prepare_resend(
        payout_id,
        actor_id=current_user().id,
        payable=lambda agent_id: agent_pay.payable(agent_id)[2],  # less the cash held
    )
    return payout_ops.dispatch(payout)


@blp.route("/admin/delivery-payouts/<int:payout_id>/complete", methods=["POST"])
@paymaster_required
@blp.arguments(ManualPayoutSchema)
@blp.response(200, PayoutSchema, message="Payout recorded as paid")
@_errors(400, 404, 409, 422)
def complete_agent_payout(data, payout_id):
    """Record a PENDING or FAILED payout as paid outside M-Pesa B2C, with a reference."""
    agent_pay.find_agent_payout(payout_id)
    payout = payout_ops.process_manually(
        payout_id, PayoutMethod(data["method"]), data["reference"], actor_id=current_user().id
    )
    db.session.commit()
    return payout


@blp.route("/admin/delivery-payouts/<int:payout_id>/cancel", methods=["POST"])
@paymaster_required
@blp.response(200, PayoutSchema, message="Payout cancelled")
@_errors(404, 409)
def cancel_agent_payout(payout_id):
    agent_pay.find_agent_payout(payout_id)
    payout = payout_ops.cancel_payout(payout_id, actor_id=current_user().id)
    db.session.commit()
    return payout


@blp.route("/admin/agents/pending-payments", methods=["GET"])
@paymaster_required
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, PendingPaymentSchema, paginated=True)
def pending_payments(params):
    """Agents with earnings or cash: on hold, available, cash held, payable."""
    return agent_pay.pending_payments(params)


@blp.route("/admin/agents/<int:agent_id>/pay-now", methods=["POST"])
@paymaster_required
@blp.arguments(AgentPayNowSchema)
@blp.response(201, PayoutSchema, message="Payout sent")
@_errors(400, 404, 409, 422, 502)
def pay_agent_now(data, agent_id):
    """Pay an agent now by B2C: ``amount`` (default everything payable: available less
    cash held); 422 ``INSUFFICIENT_BALANCE`` / ``PAYOUT_NUMBER_MISSING``; 409
    ``PAYOUT_IN_PROGRESS``."""
    payout = agent_pay.pay_now(agent_id, data.get("amount"), actor_id=current_user().id)
    return payout_ops.dispatch(payout)


# Admins: cash on delivery ---------------------------------------------------------------
@cash_blp.route("/cod-pending", methods=["GET"])
@cash_admin_required
@cash_blp.arguments(PaginationSchema, location="query")
@cash_blp.response(200, OrderSummarySchema, paginated=True)
def cod_pending(params):
    """Cash orders shipped, on their way or delivered whose cash is not collected yet."""
    return cod.awaiting_cash(params)


@cash_blp.route("/cod-collected", methods=["GET"])
@cash_admin_required
@cash_blp.arguments(CodQuerySchema, location="query")
@cash_blp.response(200, CodCollectionSchema, paginated=True)
def cod_collected(params):
    """Cash collected (``status`` COLLECTED: still held; VERIFIED: handed in)."""
    return cod.collections(params)


@cash_blp.route("/<int:order_id>/cod-collect", methods=["POST"])
@cash_admin_required
@cash_blp.arguments(CollectCodSchema)
@cash_blp.response(200, CodCollectionSchema, message="Cash collected")
@_errors(400, 404, 409, 422)
def staff_cod_collect(data, order_id):
    """Cash taken by staff (a pickup point): the same rules as an agent's."""
    collection = cod.collect(current_user(), order_id, data["amount"])
    db.session.commit()
    return collection


@cash_blp.route("/<int:order_id>/cod-verify", methods=["POST"])
@cash_admin_required
@cash_blp.arguments(VerifyCodSchema)
@cash_blp.response(200, CodCollectionSchema, message="Cash handed in")
@_errors(400, 404, 409)
def cod_verify(data, order_id):
    """Record that the cash collected for the order was handed in (with a
    ``reference``): the collector no longer holds it. 409 ``COD_NOT_COLLECTED`` /
    ``COD_ALREADY_VERIFIED``."""
    collection = cod.verify(order_id, data["reference"], actor=current_user())
    db.session.commit()
    return collection


BLUEPRINTS = (blp, cash_blp)
