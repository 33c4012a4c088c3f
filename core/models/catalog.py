"""Catalog: applications with their products, squads and Jira boards."""

from __future__ import annotations

from pydantic import Field, model_validator

from core.models.common import DomainModel, Entity, Key, Name, Text, Url


class Product(DomainModel):
    product_id: Key
    product_name: Name
    product_owner_ids: list[str] = Field(default_factory=list)
    product_pe_ids: list[str] = Field(default_factory=list)
    product_jira_board_ids: list[Key] = Field(default_factory=list)
    product_squad_ids: list[Key] = Field(default_factory=list)


class ApplicationDraft(DomainModel):
    application_id: Key
    application_name: Name
    technologies: list[Name] = Field(default_factory=list, max_length=30)
    description: Text = ""
    products: list[Product] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _unique_products(self) -> ApplicationDraft:
        ids = [p.product_id for p in self.products]
        if len(ids) != len(set(ids)):
            raise ValueError("product ids must be unique within an application")
        return self


class Application(Entity, ApplicationDraft):
    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.product_id == product_id), None)


class SquadDraft(DomainModel):
    squad_id: Key
    squad_name: Name
    squad_jira_board_ids: list[Key] = Field(default_factory=list)
    member_ids: list[str] = Field(default_factory=list)


class Squad(Entity, SquadDraft):
    pass


class JiraBoardDraft(DomainModel):
    board_id: Key
    board_name: Name
    board_link: Url | None = None
    board_type: Key = "scrum"


class JiraBoard(Entity, JiraBoardDraft):
    pass
