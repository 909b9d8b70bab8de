"""Every table of the store on `SQLModel.metadata`: what Alembic's env and the models-versus-head check compare."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.care import models as care_models
from shared.chain import models as chain_models
from shared.equipment import models as equipment_models
from shared.equipment import record_models
from shared.equipment import recording as recording_models
from shared.equipment import station_names as station_name_models
from shared.equipment.native import models as native_models
from shared.outcomes import models as outcomes_models
from shared.outcomes import questionnaire_models
from shared.staff import models as staff_models

# imported for their tables
MODULES = (care_models, chain_models, equipment_models, native_models, outcomes_models, questionnaire_models,
           record_models, recording_models, staff_models, station_name_models)
metadata = SQLModel.metadata
