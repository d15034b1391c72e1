"""A person's account leaving: what the messaging table holds of theirs goes with it.

Runs from the `pre_delete` receiver on accounts.User (messaging/receivers.py), so every
way an account is deleted (the profile's form, the admin's delete view and its bulk
action, a shell) erases the same items, and accounts imports nothing from messaging.
"""

import uuid

from messaging.store import people_table


def account_items_erase(*, user_uuid: uuid.UUID) -> int:
    """Delete the person's inbox rows (hidden ones too), marking them departed on each
    conversation and wiping their name from the others' copies, and their idempotency
    records (messaging/dynamo/people.py counts the requests). Their messages stay in the
    conversations, shown as from "Deleted user": they are the other members' record too.

    Called inside the transaction that deletes the user, before the row goes: if
    DynamoDB fails midway the user's delete rolls back and the account still works
    (missing only the rows already erased), and running the deletion again finishes,
    since deleting what is gone is a no-op. Returns the items deleted.
    """
    return people_table().items_delete(user_uuid=user_uuid)
