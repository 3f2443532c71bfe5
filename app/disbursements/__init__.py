"""M-Pesa B2C transfers (disbursements): one engine for supplier/agent payouts and refunds.

One transfer is one ``Disbursement`` row: its purpose (``PAYOUT``, ``REFUND``) and subject
(the payout's or refund's id), phone, whole-shilling amount, our unique
``OriginatorConversationID`` and Safaricom's ``ConversationID``. Its status:
``PENDING`` (written, or Daraja refused the request: safe to send) -> ``SENDING`` (the
request may be out: only ever re-sent with the same OriginatorConversationID, which Daraja
refuses as a duplicate) -> ``SENT`` (accepted, or ``unknown`` after a timeout) ->
``COMPLETED`` (receipt) / ``FAILED`` (the money never left); ``CANCELLED`` before sending.
A timeout is never a failure: ``reconcile_disbursements`` (job ``reconcile_payouts``)
asks Transaction Status about transfers in flight past PAYOUT_RECONCILE_AFTER_MINUTES.

How another domain sends money (``from app.disbursements import operations as transfers``):

1. In your transaction, write your own row, then
   ``d = transfers.create_disbursement(DisbursementPurpose.REFUND, refund.id,
   phone=..., amount=Decimal(whole shillings >= 10), remarks="Refund QG-...")`` (flushes).
   Keep ``d.id`` (e.g. on your row).
2. Commit, then ``transfers.send([d.id])`` (a boundary: it commits around the HTTP call).
   It returns ``{id: SendOutcome}``; ``outcome.refused`` (Daraja down or refusing, the
   transfer is back to PENDING: raise ``outcome.error``, a 502 ``ProviderError``, if you
   are a view) / ``outcome.unknown`` (a timeout: in flight, do not send again).
3. React in a receiver (``RECEIVER_MODULES``) to the signals of ``app/signals.py``,
   filtering on your purpose:
   ``disbursements_sent`` (sender: the purpose; ``disbursements``: a list) once per
   transfer when it left or may have left: move your money in flight; then
   ``disbursement_settled`` (sender: the Disbursement, ``status`` COMPLETED or FAILED)
   exactly once: confirm or give the money back. Post your ledger entries there, with
   event keys made of the disbursement id. Both run inside the transaction that moved
   the transfer (a raising receiver fails it).
4. A retry after a confirmed FAILED is a new ``create_disbursement`` (new
   OriginatorConversationID); ``cancel_disbursement(d)`` withdraws one still PENDING.

Callbacks (``/api/payments/b2c/result``, ``/timeout``, ``/status/result``,
``/status/timeout``) are stored (``DisbursementCallback``) before they are acted on,
duplicates change nothing, unknown ids are kept and replayed by the reconcile job.
"""
