"""Every section of the book, in the order of the lecture's slides
(../shared/lecture.txt): the applications, MLP vs CNNs, then the CNN slides."""

from __future__ import annotations

from cnnlab.lecture.applications import SECTIONS as APPLICATIONS
from cnnlab.lecture.basics import SECTIONS as BASICS
from cnnlab.lecture.later import SECTIONS as LATER

SECTIONS = [*APPLICATIONS, *BASICS, *LATER]
