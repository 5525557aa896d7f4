*** Settings ***
Documentation    Mass recruitment: each night, for each open job, the robot exports the applicants from the
...              recruitment system's web UI, checks every licence in the professional register, screens the
...              applicants against the job's requirements, books the eligible ones into group interviews,
...              tells every candidate the outcome, passes hires on to employment start and writes the
...              recruiter's report.

Resource         mass_recruitment.resource


*** Tasks ***
Screen The Applicants Of Each Job
    [Documentation]    Every new applicant of the job ends invited, rejected with a reason,
    ...    or on the recruiter's review list.
    For Each Work Item    Screen The Applicants Of One Job
