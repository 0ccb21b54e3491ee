"""Insight tables, one module per concern, gathered here for Django's app registry."""

from grassroots.insights.models.assessment import AssessmentMonth as AssessmentMonth
from grassroots.insights.models.assessment import AssessmentRating as AssessmentRating
from grassroots.insights.models.assessment import AssessmentWeights as AssessmentWeights
from grassroots.insights.models.assessment import TargetKind as TargetKind
from grassroots.insights.models.hotspots import HotspotDecision as HotspotDecision
from grassroots.insights.models.hotspots import HotspotOutcome as HotspotOutcome
from grassroots.insights.models.planning import PlanProposal as PlanProposal
from grassroots.insights.models.planning import ProposalStatus as ProposalStatus
from grassroots.insights.models.rollups import CaseResponse as CaseResponse
from grassroots.insights.models.rollups import CaseRollup as CaseRollup
from grassroots.insights.models.rollups import CategoryRollup as CategoryRollup
from grassroots.insights.models.rollups import RegistryRollup as RegistryRollup
from grassroots.insights.models.rollups import RollupRun as RollupRun
