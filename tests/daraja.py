"""Daraja faked at the HTTP boundary (``responses``), in Safaricom's real wire format:
the B2C and Transaction Status acknowledgements, and the bodies Safaricom POSTs back to
our ResultURL / QueueTimeOutURL (section 5 and 7 of the wire-format reference)."""

from __future__ import annotations

import json
import secrets

import responses

BASE = "https://sandbox.safaricom.co.ke"
TOKEN_URL = f"{BASE}/oauth/v1/generate"
STK_URL = f"{BASE}/mpesa/stkpush/v1/processrequest"
B2C_URL = f"{BASE}/mpesa/b2c/v3/paymentrequest"
STATUS_URL = f"{BASE}/mpesa/transactionstatus/v1/query"
QUEUE_URL = "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"


def conversation_id() -> str:
    return f"AG_20261202_{secrets.token_hex(10)}"


def accept_b2c(mock: responses.RequestsMock, *, times: int = 1) -> list:
    """Daraja accepts each B2C request (echoing our OriginatorConversationID)."""

    def answer(request):
        body = json.loads(request.body)
        ack = {
            "ConversationID": conversation_id(),
            "OriginatorConversationID": body["OriginatorConversationID"],
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(ack)

    return mock.add_callback(responses.POST, B2C_URL, callback=answer)


def token(mock: responses.RequestsMock) -> None:
    mock.get(TOKEN_URL, json={"access_token": "tok-1", "expires_in": "3599"})


def error_body(
    code: str = "500.003.02", message: str = "System is busy. Please try again in few minutes."
) -> dict:
    return {
        "requestId": "2ba8-4165-beca-292db11f9ef8358609",
        "errorCode": code,
        "errorMessage": message,
    }


def b2c_success(
    originator: str, conversation: str, amount: int, receipt: str = "SG632NMUAB"
) -> dict:
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": receipt,
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "TransactionAmount", "Value": amount},
                    {"Key": "TransactionReceipt", "Value": receipt},
                    {
                        "Key": "ReceiverPartyPublicName",
                        "Value": "254705912645 - NICHOLAS JOHN SONGOK",
                    },
                    {"Key": "TransactionCompletedDateTime", "Value": "06.07.2024 22:48:52"},
                    {"Key": "B2CUtilityAccountAvailableFunds", "Value": 8959269.60},
                    {"Key": "B2CWorkingAccountAvailableFunds", "Value": 1199371.00},
                    {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                    {"Key": "B2CChargesPaidAccountAvailableFunds", "Value": -1980.00},
                ]
            },
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": QUEUE_URL}},
        }
    }


def b2c_failure(
    originator: str, conversation: str, code=2001, desc="The initiator information is invalid."
) -> dict:
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": code,
            "ResultDesc": desc,
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": "NLJ0000000",
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": QUEUE_URL}},
        }
    }


def timeout_result_shape(originator: str, conversation: str) -> dict:
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": 1,
            "ResultDesc": "The service request has timed out.",
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
        }
    }


def timeout_echo_shape(originator: str, amount: int, phone: str) -> dict:
    return {
        "InitiatorName": "testapi",
        "SecurityCredential": "RC6E9WDxXR4b9X2c6z3gp0oC5Th ==",
        "CommandID": "BusinessPayment",
        "Amount": str(amount),
        "PartyA": "600992",
        "PartyB": phone,
        "Remarks": "remarked",
        "QueueTimeOutURL": "https://api.example.co.ke/api/payments/b2c/timeout",
        "ResultURL": "https://api.example.co.ke/api/payments/b2c/result",
        "OriginatorConversationID": originator,
        "IDType": "2",
        "IDNumber": phone,
    }


def status_completed(
    transfer_originator: str, amount, receipt: str = "MBN31H462N", *, spaced: bool = False
) -> dict:
    """D3's shape (strings, no spaces) or with ``spaced`` D1's (numbers, keys with spaces)."""
    originator_key = "Originator Conversation ID" if spaced else "OriginatorConversationID"
    return {
        "Result": {
            "ConversationID": "AG_20180223_0000493344ae97d86f75",
            "OriginatorConversationID": "3213-416199-2",
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion"}},
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "DebitPartyName", "Value": "600310 - Safaricom333"},
                    {"Key": "DebitPartyName", "Value": "254708374149 - John Doe"},
                    {"Key": originator_key, "Value": transfer_originator},
                    {
                        "Key": "InitiatedTime",
                        "Value": 20180223054112 if spaced else "20180223054112",
                    },
                    {"Key": "DebitAccountType", "Value": "Utility Account"},
                    {"Key": "DebitPartyCharges", "Value": "Fee For B2C Payment|KES|22.40"},
                    {"Key": "TransactionReason"},
                    {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                    {"Key": "TransactionStatus", "Value": "Completed"},
                    {"Key": "FinalisedTime", "Value": "20180223054112"},
                    {"Key": "Amount", "Value": amount if spaced else str(amount)},
                    {
                        "Key": "Conversation ID" if spaced else "ConversationID",
                        "Value": "AG_20180223_000041b09c22e613d6c9",
                    },
                    {"Key": "ReceiptNo", "Value": receipt},
                ]
            },
            "ResultType": 0,
            "TransactionID": "MBN0000000",
        }
    }


def status_failure() -> dict:
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": 2001,
            "ResultDesc": "The initiator information is invalid.",
            "OriginatorConversationID": "6618-1387084-1",
            "ConversationID": "AG_20180128_0000650adeb6d1e32571",
            "TransactionID": "MAS0000000",
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": "xf"}},
        }
    }


def status_ack() -> dict:
    return {
        "OriginatorConversationID": "1236-7134259-1",
        "ConversationID": conversation_id(),
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }
