"""Every table Reclaim maps, gathered: one ``metadata`` for Alembic and the tests.

Features declare their tables in their own ``models.py``; importing them here registers
them all on the shared declarative base.  Nothing in the features imports this module.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from reclaim.accounts import models as accounts
from reclaim.audit import models as audit
from reclaim.banks import models as banks
from reclaim.cases import models as cases
from reclaim.linkage import models as linkage
from reclaim.partners import models as partners
from reclaim.platforms import models as platforms
from reclaim.referrals import models as referrals
from reclaim.scanning import models as scanning
from reclaim.security import models as security
from reclaim.statistics import models as statistics
from reclaim.storage import models as storage
from reclaim.storage.base import Base
from reclaim.takedown import models as takedown

#: The modules that declare tables, in no particular order.
MODEL_MODULES = (
    accounts,
    audit,
    banks,
    cases,
    partners,
    platforms,
    security,
    storage,
    takedown,
    referrals,
    linkage,
    statistics,
    scanning,
)

metadata: MetaData = Base.metadata

__all__ = ["MODEL_MODULES", "metadata"]
